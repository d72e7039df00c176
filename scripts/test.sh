#!/usr/bin/env bash
# README command 2: set up, then run every check CI runs: generated-code drift, buf lint and
# breaking, ruff, mypy --strict, and the whole test suite (unit, integration, conformance, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-test-services.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== generated code is current"
python scripts/generate_idl.py --check
echo "== buf"
scripts/buf.sh lint
scripts/buf.sh breaking
echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy --strict"
mypy
echo "== pytest"
# Two workers (pytest-xdist), a test file per worker at a time so a module's shared plane stays one;
# most of a test's time is spent waiting on servers and flytekit subprocesses, not on this process.
# FLYTEPLANE_TEST_WORKERS=0 runs everything in one process.
# The slowest tests are listed at the end: where the suite's time goes.
pytest -q -n "${FLYTEPLANE_TEST_WORKERS:-2}" --dist loadfile --durations=30 "$@"
