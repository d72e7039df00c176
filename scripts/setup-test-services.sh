#!/usr/bin/env bash
# What the tests need beyond Python packages, installed when missing: PostgreSQL (the tests start
# throwaway servers with initdb/pg_ctl), Node.js/npm (buf comes from the npm registry) and Go
# (grpcurl and kube-apiserver are built through the Go module proxy), etcd, a JRE for pyspark. Debian packages; needs root when installing.
set -euo pipefail

need=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)  # the kube-apiserver tests store in it
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)  # pyspark, for the local Spark backend

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
