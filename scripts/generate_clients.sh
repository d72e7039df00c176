#!/usr/bin/env bash
# Generate flyteidl clients in Go, Java, TypeScript and Rust from idl/ (messages and gRPC stubs of
# every file, ours under idl/flyteplane/ included). Generated code is never committed.
#
#   scripts/generate_clients.sh [--out DIR] [--go-module PATH] [go] [java] [ts] [rust]
#
# DIR defaults to build/clients; each language goes to DIR/<language>:
#   go    a Go module, by default github.com/flyteplane/flyteplane/flyteidl, with flyteidl's package
#         layout (<module>/gen/pb-go/flyteidl/core, .../admin, .../service, ...; ours under
#         <module>/gen/pb-go/flyteplane/...). --go-module github.com/flyteorg/flyte/flyteidl gives a
#         module a go.mod `replace` directive can put in place of the official one.
#   java  Java sources (protoc's java + grpc-java), under DIR/java/src/main/java.
#   ts    TypeScript (protoc-gen-es v2: messages and service descriptors for Connect).
#   rust  a cargo crate (`flyteidl`, prost + tonic) whose build.rs compiles the copied .proto files.
#
# Tools come from package registries into .tools/ (pinned below): protoc and protoc-gen-grpc-java
# from Maven Central, protoc-gen-go and protoc-gen-go-grpc through the Go module proxy, protoc-gen-es
# from npm; the Rust crate pulls prost/tonic from crates.io when built. A language whose inputs
# (idl/, this script, the tool versions) did not change since it was generated is left as it is, so
# builds on top of it stay incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PROTOC_VERSION=4.36.2              # com.google.protobuf:protoc (protoc 36.2); protobuf-java must match
GRPC_JAVA_VERSION=1.85.1           # io.grpc:protoc-gen-grpc-java
PROTOC_GEN_GO_VERSION=v1.36.12     # google.golang.org/protobuf
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2  # google.golang.org/grpc/cmd/protoc-gen-go-grpc
GO_GRPC_VERSION=v1.85.0            # google.golang.org/grpc, the generated module's runtime
GENPROTO_VERSION=v0.0.0-20261123191846-1e707ab9fbc2  # google.golang.org/genproto/googleapis/{api,rpc}
PROTOC_GEN_ES_VERSION=2.17.0       # @bufbuild/protoc-gen-es
TOOLS=$ROOT/.tools
PY=${PYTHON:-$ROOT/.venv/bin/python}

OUT=$ROOT/build/clients
GO_MODULE=github.com/flyteplane/flyteplane/flyteidl
languages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$(realpath -m "$2"); shift 2 ;;
    --go-module) GO_MODULE=$2; shift 2 ;;
    go|java|ts|rust) languages+=("$1"); shift ;;
    *) echo "usage: $0 [--out DIR] [--go-module PATH] [go] [java] [ts] [rust]" >&2; exit 2 ;;
  esac
done
[ ${#languages[@]} -gt 0 ] || languages=(go java ts rust)

# --- tools -------------------------------------------------------------------------------------

case "$(uname -m)" in  # the classifier of Maven Central's native executables
  x86_64) EXE=exe:linux-x86_64 ;;
  aarch64|arm64) EXE=exe:linux-aarch_64 ;;
  *) echo "no protoc on Maven Central for $(uname -m)" >&2; exit 1 ;;
esac

maven_get() {  # maven_get GROUP ARTIFACT VERSION TYPE[:CLASSIFIER] DEST -- by coordinates, through mvn
  local dir
  dir=$(mktemp -d)
  (cd "$dir" && mvn -q -B dependency:copy -Dartifact="$1:$2:$3:$4" -DoutputDirectory="$dir/out" >/dev/null)
  mv "$dir"/out/* "$5" && rm -rf "$dir"
}

PROTOC=$TOOLS/protoc-$PROTOC_VERSION/bin/protoc
ensure_protoc() {
  # protoc from Maven Central; the well-known types from the protobuf-java jar of the same release,
  # placed in ../include where protoc looks by itself.
  [ -x "$PROTOC" ] && return
  local dir=$TOOLS/protoc-$PROTOC_VERSION
  mkdir -p "$dir/bin" "$dir/include"
  maven_get com.google.protobuf protoc "$PROTOC_VERSION" "$EXE" "$dir/bin/protoc.exe"
  maven_get com.google.protobuf protobuf-java "$PROTOC_VERSION" jar "$dir/protobuf-java.jar"
  python3 - "$dir/protobuf-java.jar" "$dir/include" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as jar:
    for name in jar.namelist():
        if name.startswith("google/protobuf/") and name.endswith(".proto"):
            jar.extract(name, sys.argv[2])
EOF
  rm "$dir/protobuf-java.jar"
  chmod +x "$dir/bin/protoc.exe" && mv "$dir/bin/protoc.exe" "$PROTOC"
}

ensure_protodeps() {
  # google/api/{annotations,http}.proto from googleapis-common-protos, as scripts/buf.sh does.
  local site
  site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  mkdir -p build/protodeps/google/api
  cp "$site"/google/api/annotations.proto "$site"/google/api/http.proto build/protodeps/google/api/
}

GOBIN_DIR=$TOOLS/go-bin
ensure_go_plugins() {
  local have_go have_grpc
  have_go=$("$GOBIN_DIR/protoc-gen-go" --version 2>/dev/null || true)
  have_grpc=$("$GOBIN_DIR/protoc-gen-go-grpc" --version 2>/dev/null || true)
  if [ "$have_go" != "protoc-gen-go $PROTOC_GEN_GO_VERSION" ]; then
    GOBIN=$GOBIN_DIR go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  fi
  if [ "$have_grpc" != "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]; then
    GOBIN=$GOBIN_DIR go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  fi
}

GRPC_JAVA=$TOOLS/grpc-java-$GRPC_JAVA_VERSION/protoc-gen-grpc-java
ensure_grpc_java() {
  [ -x "$GRPC_JAVA" ] && return
  mkdir -p "$(dirname "$GRPC_JAVA")"
  maven_get io.grpc protoc-gen-grpc-java "$GRPC_JAVA_VERSION" "$EXE" "$GRPC_JAVA"
  chmod +x "$GRPC_JAVA"
}

PROTOC_GEN_ES=$TOOLS/node_modules/.bin/protoc-gen-es
ensure_es() {
  if [ ! -x "$PROTOC_GEN_ES" ] || [ "$("$PROTOC_GEN_ES" --version)" != "protoc-gen-es v$PROTOC_GEN_ES_VERSION" ]; then
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "@bufbuild/protoc-gen-es@$PROTOC_GEN_ES_VERSION" >/dev/null
  fi
}

# --- generation --------------------------------------------------------------------------------

mapfile -t FILES < <(cd idl && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
GOOGLE_API=(google/api/annotations.proto google/api/http.proto)

inputs_hash() {  # what a language's output depends on
  { cat "$0"; printf '%s\n' "$1" "$GO_MODULE"; for f in "${FILES[@]}"; do echo "$f"; cat "idl/$f"; done; } | sha256sum | cut -c1-16
}

protoc_idl() {  # protoc over every idl/ file (and ARGS), as plain as the README's command
  "$PROTOC" -I idl -I build/protodeps "$@"
}

gen_go() {
  local out=$1
  ensure_go_plugins
  # Each file's Go package: flyteidl's layout (gen/pb-go/<dir>) under GO_MODULE, keeping the package
  # name its go_package gives. M options override go_package; module= strips the module prefix
  # from output paths, so the tree under $out is the module's.
  local maps=()
  for f in "${FILES[@]}"; do
    local go_package rel
    go_package=$(sed -n 's/^option go_package = "\(.*\)";$/\1/p' "idl/$f")
    rel=${go_package#*/gen/pb-go/}
    maps+=("--go_opt=M$f=$GO_MODULE/gen/pb-go/$rel" "--go-grpc_opt=M$f=$GO_MODULE/gen/pb-go/$rel")
  done
  PATH=$GOBIN_DIR:$PATH protoc_idl \
    --go_out="$out" --go_opt=module="$GO_MODULE" \
    --go-grpc_out="$out" --go-grpc_opt=module="$GO_MODULE" \
    "${maps[@]}" "${FILES[@]}"
  cat > "$out/go.mod" <<EOF
module $GO_MODULE

go 1.24

require (
	google.golang.org/genproto/googleapis/api $GENPROTO_VERSION
	google.golang.org/genproto/googleapis/rpc $GENPROTO_VERSION // indirect, through grpc
	google.golang.org/grpc $GO_GRPC_VERSION
	google.golang.org/protobuf $PROTOC_GEN_GO_VERSION
)
EOF
  # Record the sums of what the packages import (go mod tidy would also fetch the tests of the
  # dependencies' dependencies, which some module mirrors do not carry).
  (cd "$out" && go list -mod=mod -deps ./... >/dev/null)
}

gen_java() {
  local out=$1
  ensure_grpc_java
  mkdir -p "$out/src/main/java"
  # google/api comes with grpc-protobuf's dependency com.google.api.grpc:proto-google-common-protos.
  protoc_idl --java_out="$out/src/main/java" \
    --plugin=protoc-gen-grpc-java="$GRPC_JAVA" --grpc-java_out="$out/src/main/java" "${FILES[@]}"
}

gen_ts() {
  local out=$1
  ensure_es
  # google/api too: admin's service descriptors import its annotations.
  protoc_idl --plugin=protoc-gen-es="$PROTOC_GEN_ES" --es_out="$out" --es_opt=target=ts,import_extension=js \
    "${FILES[@]}" "${GOOGLE_API[@]}"
}

gen_rust() {
  local out=$1
  mkdir -p "$out/proto" "$out/src"
  (cd idl && cp --parents "${FILES[@]}" "$out/proto/")
  (cd build/protodeps && cp --parents "${GOOGLE_API[@]}" "$out/proto/")
  printf '%s\n' "${FILES[@]}" > "$out/protos.txt"
  cat > "$out/Cargo.toml" <<'EOF'
[package]
name = "flyteidl"
version = "1.16.8"
edition = "2021"
description = "flyteidl messages (prost) and gRPC clients (tonic), generated from flyteplane's idl/"
publish = false

[dependencies]
prost = "0.13"
prost-types = "0.13"
tonic = "0.12"

[build-dependencies]
tonic-build = "0.12"
EOF
  cat > "$out/build.rs" <<'EOF'
// Compiles proto/ (flyteplane's idl/ and google/api) with prost and tonic; protoc comes from
// $PROTOC or PATH (scripts/generate_clients.sh installs one in .tools/).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos: Vec<String> = include_str!("protos.txt").lines().map(|f| format!("proto/{f}")).collect();
    tonic_build::configure()
        .build_server(false)
        .include_file("flyteidl_modules.rs")
        .compile_protos(&protos, &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
EOF
  cat > "$out/src/lib.rs" <<'EOF'
//! flyteidl (and flyteplane's own services) as prost messages and tonic clients, one Rust module
//! per proto package: `flyteidl::core`, `flyteidl::admin`, `flyteidl::service`, `datacatalog`, ...
#![allow(clippy::all, rustdoc::all)]
include!(concat!(env!("OUT_DIR"), "/flyteidl_modules.rs"));
EOF
}

ensure_protoc
ensure_protodeps
for lang in "${languages[@]}"; do
  # A language's tools are put in place even when its output is current: another checkout may have
  # generated it, and callers (the plain-protoc test) use the tools in this checkout's .tools/.
  case $lang in go) ensure_go_plugins ;; java) ensure_grpc_java ;; ts) ensure_es ;; esac
  dest=$OUT/$lang
  want=$(inputs_hash "$lang")
  if [ "$(cat "$dest/.generated-from" 2>/dev/null)" = "$want" ]; then
    echo "$lang: $dest is current"
    continue
  fi
  rm -rf "$dest" && mkdir -p "$dest"
  "gen_$lang" "$dest"
  echo "$want" > "$dest/.generated-from"
  echo "$lang: generated $dest"
done
