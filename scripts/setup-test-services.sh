#!/usr/bin/env bash
# What the tests need beyond Python packages, installed when missing: PostgreSQL (the tests start
# throwaway servers with initdb/pg_ctl), Node.js/npm (buf comes from the npm registry) and Go
# (grpcurl and the Kubernetes commands are built through the Go module proxy), etcd, a single Kubernetes node's
# runtime (containerd, runc, CNI plugins) and image tools (debootstrap, umoci, skopeo), a JRE for pyspark, and for
# the generated-client tests (tests/e2e/clients) a JDK with Maven
# and cargo, Debian's chromium for the console's browser tests. Debian packages; needs root when installing.
# Then jflyte for the Java task tests (scripts/install-jflyte.sh, with Maven).
set -euo pipefail

need=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)  # the kube-apiserver tests store in it
# A real Kubernetes node (tests/support/kube_node.py): containerd and runc run its pods, the CNI plugins
# network them, debootstrap, umoci and skopeo build its images.
for tool in containerd runc debootstrap umoci skopeo; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)  # pyspark, for the local Spark backend
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)  # the Java client test
command -v mvn >/dev/null 2>&1 || need+=(maven)
[ -x /usr/bin/chromium ] || need+=(chromium)  # the console's browser tests (Playwright drives it; no browser download)
# Debian's cargo (rustc 1.63) is too old for tonic; the Rust client test needs a current toolchain.
if ! command -v cargo >/dev/null 2>&1; then
  echo "the Rust client test needs cargo (a current stable Rust toolchain, e.g. from https://rustup.rs)" >&2
  exit 1
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "the tests need: ${need[*]} (install them, or run this script as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# PostgreSQL refuses to run as root; under root the test clusters belong to this user.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
fi
# jflyte (flytekit-java's command line) for the Java task tests, where the plane looks for it by default (in this
# user's cache; the tests run the same script, a no-op once installed).
"$(dirname "$0")/install-jflyte.sh" >/dev/null
