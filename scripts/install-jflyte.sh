#!/usr/bin/env bash
# Installs jflyte, flytekit-java's command line, for the local backend's Java tasks, laid out as in the jflyte image:
#   <home>/lib                        jflyte and its dependencies (the image's /jflyte)
#   <home>/modules/jflyte-aws         its s3:// file system; modules/jflyte-google-cloud: gs://
#   <home>/bin/jflyte                 a launcher, for `jflyte register workflows ...`
# Maven resolves them from Maven Central (cached in ~/.m2) as scripts/jflyte/pom.xml says; nothing is built. Quick
# when <home> already holds what the pom names. Needs Java 11+ and Maven (scripts/setup-test-services.sh installs them).
# Usage: scripts/install-jflyte.sh [HOME]  (default: ${XDG_CACHE_HOME:-~/.cache}/flyteplane/jflyte, where the plane
# looks unless propeller.plugins.backends.local.jflyte.home says otherwise). Prints HOME.
set -euo pipefail
pom="$(cd "$(dirname "$0")" && pwd)/jflyte/pom.xml"
home="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/flyteplane/jflyte}"
for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-jflyte: $tool is missing (jflyte needs Java 11+ and Maven)" >&2
    exit 1
  fi
done
want=$(cat "$pom" "$0" | sha256sum | cut -c1-16)  # a new pom or launcher reinstalls
if [ "$(cat "$home/.flyteplane-jflyte" 2>/dev/null)" = "$want" ]; then
  echo "$home"
  exit 0
fi
# Laid out beside <home> and moved into place at the end, so a plane never sees half an installation.
mkdir -p "$(dirname "$home")"
tmp=$(mktemp -d "$home.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
copy() {
  mvn -q -B -Dstyle.color=never -f "$pom" -P "$1" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$2" >&2
}
copy cli "$tmp/lib"
copy aws "$tmp/modules/jflyte-aws"
copy google-cloud "$tmp/modules/jflyte-google-cloud"
mkdir "$tmp/bin"
cat > "$tmp/bin/jflyte" <<'LAUNCHER'
#!/bin/sh
# jflyte as the jflyte image's entrypoint runs it. It reads FLYTE_PLATFORM_URL, FLYTE_PLATFORM_INSECURE,
# FLYTE_STAGING_LOCATION and FLYTE_AWS_* (or Google's) from the environment; the module directory and the image name
# that lands in the tasks' templates default here.
home=$(cd "$(dirname "$0")/.." && pwd)
export FLYTE_INTERNAL_MODULE_DIR="${FLYTE_INTERNAL_MODULE_DIR:-$home/modules}"
export FLYTE_INTERNAL_IMAGE="${FLYTE_INTERNAL_IMAGE:-jflyte}"
exec "${JAVA:-java}" -Dorg.slf4j.simpleLogger.defaultLogLevel=INFO -cp "$home/lib/*" org.flyte.jflyte.Main jflyte "$@"
LAUNCHER
chmod +x "$tmp/bin/jflyte"
echo "$want" > "$tmp/.flyteplane-jflyte"
chmod 755 "$tmp"
rm -rf "$home"
mv "$tmp" "$home"
trap - EXIT
echo "$home"
