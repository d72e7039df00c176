#!/usr/bin/env bash
# Sets up everything flyteplane needs on this machine, idempotently: a Python 3.11 virtualenv in
# .venv with the project and its development tools. Safe to run again; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON311:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "flyteplane needs Python 3.11 (set PYTHON311=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  "$(find_python)" -m venv .venv
fi
stamp=.venv/.flyteplane-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi

# The web console (console/, served by admin at /console): its API types are generated from admin's
# OpenAPI document, then Vite builds console/dist. Skipped when nothing it is made from changed.
build_console() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing: the web console is not built (scripts/setup-test-services.sh installs it)" >&2
    return 0
  fi
  local lock_stamp=console/node_modules/.flyteplane-lock
  local lock
  lock=$(sha256sum console/package-lock.json | cut -c1-16)
  if [ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock" ]; then
    (cd console && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
    echo "$lock" > "$lock_stamp"
  fi
  local build_stamp=console/dist/.flyteplane-build
  local sources
  sources=$( { find console/src idl -type f -print0 | sort -z | xargs -0 sha256sum;
               sha256sum console/package-lock.json console/index.html console/vite.config.ts console/tsconfig.json \
                 admin/rest.py admin/service.py scripts/console_openapi.py; } | sha256sum | cut -c1-16)
  if [ "$(cat "$build_stamp" 2>/dev/null)" != "$sources" ]; then
    .venv/bin/python scripts/console_openapi.py console/gen/openapi.json
    (cd console && npm run --silent build -- --logLevel warn)
    echo "$sources" > "$build_stamp"
  fi
}
build_console
