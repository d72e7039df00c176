"""Regenerate flyteidl_py/ from idl/: protobuf messages, .pyi stubs, gRPC stubs and typed dataclasses.

This is the only way flyteidl_py/ changes. `--check` generates into a scratch directory and fails
when the checked-in tree differs, which is how CI catches a .proto edit without regeneration.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDL = ROOT / "idl"
OUT = ROOT / "flyteidl_py"

# Top-level directories under idl/ and the Python package their generated modules live in.
# flyteidl/core/literals.proto -> flyteidl_py.core.literals_pb2;
# flyteplane/engine/v1/engine.proto -> flyteidl_py.flyteplane.engine.v1.engine_pb2.
PACKAGE_ROOTS = {"flyteidl": "flyteidl_py", "flyteplane": "flyteidl_py.flyteplane"}

GENERATED_NOTE = '"""Generated from idl/ by scripts/generate_idl.py. Do not edit."""\n'


def _include_dirs() -> list[str]:
    """The IDL itself, googleapis-common-protos (google/api) and protoc's well-known types."""
    site = Path(sysconfig.get_paths()["purelib"])
    import grpc_tools

    return [str(IDL), str(site), str(Path(grpc_tools.__file__).parent / "_proto")]


def _proto_files() -> list[str]:
    return sorted(str(p.relative_to(IDL)) for p in IDL.rglob("*.proto"))


def _protoc(args: list[str]) -> None:
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    cmd = [sys.executable, "-m", "grpc_tools.protoc"] + [f"-I{d}" for d in _include_dirs()] + args
    # The betterproto2 plugin narrates every file it writes on stderr; show that only on failure.
    done = subprocess.run(cmd + _proto_files(), env=env, cwd=IDL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"protoc failed ({done.returncode})")


_IMPORT_RE = re.compile(r"^(\s*)(from|import) (flyteidl|flyteplane)\.", re.MULTILINE)
_BUILDER_RE = re.compile(r"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')(flyteidl|flyteplane)\.")


def _rewrite_imports(text: str) -> str:
    """Point the generated imports at flyteidl_py so it can sit beside the published flyteidl."""
    text = _IMPORT_RE.sub(lambda m: f"{m.group(1)}{m.group(2)} {PACKAGE_ROOTS[m.group(3)]}.", text)
    return _BUILDER_RE.sub(lambda m: f"{m.group(1)}{PACKAGE_ROOTS[m.group(2)]}.", text)


def generate(dest: Path) -> None:
    raw = Path(tempfile.mkdtemp(prefix="flyteidl_gen_"))
    try:
        _protoc(
            [
                f"--python_out={raw}",
                f"--pyi_out={raw}",
                f"--grpc_python_out={raw}",
                f"--mypy_grpc_out=quiet:{raw}",
            ]
        )
        typed = raw / "_typed"
        typed.mkdir()
        _protoc([f"--python_betterproto2_out=client_generation=async_sync:{typed}"])

        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for top, package in PACKAGE_ROOTS.items():
            src = raw / top
            if not src.exists():
                continue
            target = dest.joinpath(*package.split(".")[1:])
            for path in sorted(src.rglob("*")):
                if path.is_file():
                    out = target / path.relative_to(src)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(_rewrite_imports(path.read_text()))
        shutil.copytree(typed, dest / "typed")
        for directory in [dest, *sorted(p for p in dest.rglob("*") if p.is_dir())]:
            init = directory / "__init__.py"
            if not init.exists():
                init.write_text(GENERATED_NOTE)
        (dest / "py.typed").touch()
    finally:
        shutil.rmtree(raw, ignore_errors=True)


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    out = [f"only in checked-in tree: {a / n}" for n in cmp.left_only]
    out += [f"missing from checked-in tree: {b / n}" for n in cmp.right_only]
    out += [f"differs: {a / n}" for n in cmp.diff_files]
    for sub in cmp.common_dirs:
        out += _differences(a / sub, b / sub)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if flyteidl_py/ is stale")
    args = parser.parse_args()
    if not args.check:
        generate(OUT)
        print(f"generated {OUT.relative_to(ROOT)}/ from {len(_proto_files())} .proto files")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "flyteidl_py"
        generate(fresh)
        diffs = _differences(OUT, fresh) if OUT.exists() else [f"{OUT} does not exist"]
    for d in diffs:
        print(d, file=sys.stderr)
    if diffs:
        print("flyteidl_py/ is stale: run `python scripts/generate_idl.py`", file=sys.stderr)
        return 1
    print("flyteidl_py/ matches idl/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
