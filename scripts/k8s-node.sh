#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, by hand (as root): up, down, status, or build (the cached
# binaries and images only). The tests use the same code (tests/support/kube_node.py).
# FLYTEPLANE_K8S_NODE_DIR: where it keeps everything (default /tmp/flyteplane-k8s-node);
# FLYTEPLANE_K8S_NODE_PORT_BASE: its seven ports are free ones among the hundred from here (default: any free ones).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m tests.support.kube_node "$@"
