#!/usr/bin/env bash
# README command 1: set up, then run the main job on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/flyteplane --version
.venv/bin/flyteplane config
