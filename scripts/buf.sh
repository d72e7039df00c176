#!/usr/bin/env bash
# buf lint / buf breaking for idl/, with buf from the npm registry and google/api protos from
# googleapis-common-protos (never a network buf registry).
#   scripts/buf.sh lint
#   scripts/buf.sh breaking [GIT_REF]   # default: HEAD if idl/ has uncommitted changes, else HEAD~1
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUF_VERSION=1.75.0
PY=${PYTHON:-$ROOT/.venv/bin/python}
BUF=.tools/node_modules/.bin/buf

if [ ! -x "$BUF" ] || [ "$("$BUF" --version)" != "$BUF_VERSION" ]; then
  npm install --silent --no-audit --no-fund --prefix .tools "@bufbuild/buf@$BUF_VERSION" >/dev/null
fi

SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p build/protodeps/google/api
cp "$SITE"/google/api/annotations.proto "$SITE"/google/api/http.proto build/protodeps/google/api/

case "${1:-}" in
  lint)
    "$BUF" lint
    echo "buf lint: ok"
    ;;
  breaking)
    ref=${2:-}
    if [ -z "$ref" ]; then
      if [ -n "$(git status --porcelain -- idl)" ]; then ref=HEAD; else ref=HEAD~1; fi
    fi
    if ! git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
      echo "buf breaking: no commit $ref to compare with; nothing to check"; exit 0
    fi
    if ! git cat-file -e "$ref:idl" 2>/dev/null; then
      echo "buf breaking: $ref has no idl/; nothing to check"; exit 0
    fi
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    git archive "$ref" idl | tar -x -C "$work"
    # The old idl/ beside today's buf.yaml and google/api protos: a workspace of the same shape.
    cp buf.yaml "$work/" && mkdir -p "$work/build" && cp -r build/protodeps "$work/build/"
    "$BUF" breaking --against "$work"
    echo "buf breaking against $ref: ok"
    ;;
  *)
    echo "usage: $0 lint | breaking [GIT_REF]" >&2; exit 2
    ;;
esac
