#!/usr/bin/env bash
# README command 1: set up everything, start the plane on the embedded defaults (SQLite, a local
# store, local task processes), run the example workflows through real flytekit, print their
# outputs, and stop. FLYTEPLANE_DEMO_DIR chooses the data directory (default: .flyteplane-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
DATA=${FLYTEPLANE_DEMO_DIR:-$PWD/.flyteplane-demo}
mkdir -p "$DATA"
LOG="$DATA/flyteplane.log"

# The task environment (flytekit + pandas) is created by `flyteplane start` on first use; create it
# first here so its progress shows, and so pyflyte is there for the client side too.
.venv/bin/python -c "from launcher.start import ensure_task_environment; from pathlib import Path; ensure_task_environment(Path('$DATA/task-env'))"

.venv/bin/flyteplane start --data-dir "$DATA" >"$LOG" 2>&1 &
PLANE=$!
trap 'kill -INT $PLANE 2>/dev/null; wait $PLANE 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "flyteplane is running" "$LOG" && break
  kill -0 $PLANE 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done
sed -n '/flyteplane is running/,$p' "$LOG"

PYFLYTE="$DATA/task-env/bin/pyflyte"
CONFIG="$DATA/config.yaml"
stamp=$(date +%s)
for example in "hello.py hello_wf" "advanced.py advanced_wf"; do
  set -- $example
  name="ex-${2//_/-}-$stamp"
  echo
  echo "\$ pyflyte --config $CONFIG run --remote examples/$1 $2"
  (cd examples && "$PYFLYTE" --config "$CONFIG" run --remote --name "$name" "$1" "$2" | tail -n 2)
  "$DATA/task-env/bin/python" examples/show_outputs.py "$CONFIG" "$name"
done
echo
echo "The plane keeps its state in $DATA; run 'flyteplane start --data-dir $DATA' to use it yourself."
