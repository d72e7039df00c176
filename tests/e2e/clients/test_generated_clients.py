"""Clients generated from idl/ in Go, Java, TypeScript and Rust run a typed execution against a live plane.

scripts/generate_clients.sh generates each language into the test cache; each test builds a small
program (beside this file) on top of it and runs it against admin + propeller + the local backend:
ListProjects, CreateExecution of a launch plan real flytekit registered, with typed inputs,
GetExecution until it ends, GetExecutionData for its outputs. The program prints one JSON line.
Toolchain downloads (Go modules, ~/.m2, the cargo registry, npm) stay in the standard per-user
caches; generated code, builds, node_modules and the shared cargo target dir in the test cache, so a
second run only runs the programs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane
from tests.support.venvs import cache_root

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
GENERATE = ROOT / "scripts" / "generate_clients.sh"
VERSION = "clients-v1"
LAUNCH_PLAN = "clientflows.typed.clients_wf"
# n=3, word="ab", scale=1.5, xs=[4, 5] -> (n + sum(xs), word * 2, n * scale)
EXPECTED_OUTPUTS = {"o0": 12, "o1": "abab", "o2": 4.5}
OUR_GO_MODULE = "github.com/flyteplane/flyteplane/flyteidl"
OFFICIAL_GO_MODULE = "github.com/flyteorg/flyte/flyteidl"
BUILD_TIME_LIMIT = 1200.0
RUN_TIME_LIMIT = 240.0


def _cache() -> Path:
    return cache_root() / "clients"


async def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None, time_limit: float) -> str:
    """Run a command without blocking the event loop (admin and propeller serve on it); its stdout."""
    process = await asyncio.create_subprocess_exec(
        *map(str, argv),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{' '.join(map(str, argv))} did not finish in {time_limit:.0f}s") from None
    if process.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, argv))} exited with {process.returncode}\n"
            f"--- stdout\n{stdout.decode()[-4000:]}\n--- stderr\n{stderr.decode()[-4000:]}"
        )
    return stdout.decode()


async def _generate(language: str, *options: str) -> Path:
    """scripts/generate_clients.sh LANGUAGE into the test cache (a no-op when idl/ did not change)."""
    out = _cache() / ("gen-" + "-".join(re.sub(r"\W", "_", o) for o in options) if options else "gen")
    await _run("bash", GENERATE, "--out", out, *options, language, cwd=ROOT, time_limit=BUILD_TIME_LIMIT)
    return out / language


def _fresh_copy(source: Path, target: Path) -> Path:
    """The program's sources copied over `target`, keeping what earlier builds left there."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.rglob("*"):
        if path.is_file() and "node_modules" not in path.parts and "target" not in path.parts:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            if not destination.exists() or destination.read_bytes() != path.read_bytes():
                shutil.copyfile(path, destination)
    return target


def _report(language: str, seconds: float) -> None:
    print(f"\n{language} client: generated and built in {seconds:.1f}s")


def _check(output: str, execution: str) -> None:
    answer: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    assert "flytesnacks" in answer["projects"]
    assert answer["execution"] == execution
    assert answer["phase"] == "SUCCEEDED"
    assert answer["outputs"] == EXPECTED_OUTPUTS


@pytest.fixture(scope="module")
async def plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    config = local_plane_config(directory, flytekit_venv)
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def admin_address(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """admin's gRPC address, once flytekit has registered the workflow the programs launch."""
    client = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    client.add_package(HERE / "clientflows", "clientflows")
    await client.register("clientflows", version=VERSION)
    return f"127.0.0.1:{plane.admin.grpc_port}"


def _program_args(admin: str, execution: str) -> list[str]:
    return [
        "--admin", admin, "--project", "flytesnacks", "--domain", "development",
        "--launch-plan", LAUNCH_PLAN, "--version", VERSION, "--execution", execution,
    ]  # fmt: skip


# --- Go ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("way", ["import-path", "replace"])
async def test_go_program_for_the_official_module_runs_against_admin(admin_address: str, way: str) -> None:
    """main.go imports github.com/flyteorg/flyte/flyteidl/gen/pb-go/...; only its module path changes.

    import-path: the imports' module prefix is changed to ours (the README's way);
    replace: the program is unchanged and go.mod replaces the official module with ours, generated
    under the official module path (--go-module).
    """
    started = time.monotonic()
    work = _fresh_copy(HERE / "go", _cache() / f"go-{way}")
    if way == "import-path":
        generated = await _generate("go")
        main = work / "main.go"
        main.write_text(main.read_text().replace(f'"{OFFICIAL_GO_MODULE}/', f'"{OUR_GO_MODULE}/'))
        edits = [
            f"-droprequire={OFFICIAL_GO_MODULE}",
            f"-require={OUR_GO_MODULE}@v0.0.0",
            f"-replace={OUR_GO_MODULE}={generated}",
        ]
    else:
        generated = await _generate("go", "--go-module", OFFICIAL_GO_MODULE)
        edits = [f"-replace={OFFICIAL_GO_MODULE}={generated}"]
    await _run("go", "mod", "edit", *edits, cwd=work, time_limit=60)
    await _run("go", "build", "-mod=mod", "-o", "flyteclient", ".", cwd=work, time_limit=BUILD_TIME_LIMIT)
    _report(f"go ({way})", time.monotonic() - started)

    execution = f"go{way[:3]}{int(time.time()) % 100000}"
    output = await _run(
        work / "flyteclient", *_program_args(admin_address, execution), cwd=work, time_limit=RUN_TIME_LIMIT
    )
    _check(output, execution)


async def test_plain_protoc_generates_go_from_idl(tmp_path: Path) -> None:
    """`protoc --go_out=OUT -I idl -I build/protodeps <every .proto>`, no M flags: every file has go_package."""
    await _generate("go")  # installs protoc and protoc-gen-go into .tools/
    protoc = sorted((ROOT / ".tools").glob("protoc-*/bin/protoc"))[-1]
    files = sorted(str(p.relative_to(ROOT / "idl")) for p in (ROOT / "idl").rglob("*.proto"))
    env = {"PATH": f"{ROOT / '.tools' / 'go-bin'}{os.pathsep}{os.environ['PATH']}"}
    await _run(
        protoc, f"--go_out={tmp_path}", f"--go-grpc_out={tmp_path}", "-I", "idl", "-I", "build/protodeps", *files,
        cwd=ROOT, env=env, time_limit=120,
    )  # fmt: skip
    official = tmp_path / "github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl"
    assert (official / "core" / "literals.pb.go").exists()
    assert (official / "service" / "admin_grpc.pb.go").exists()
    assert (tmp_path / OUR_GO_MODULE / "gen/pb-go/flyteplane/engine/v1/engine.pb.go").exists()


def _digest(*parts: Path | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            h.update(part.encode())
        elif part.is_dir():
            for path in sorted(p for p in part.rglob("*") if p.is_file()):
                h.update(str(path.relative_to(part)).encode() + b"\0" + path.read_bytes())
        else:
            h.update(part.read_bytes())
    return h.hexdigest()[:16]


def _stale(stamp: Path, digest: str) -> bool:
    return not stamp.exists() or stamp.read_text() != digest


# --- Java --------------------------------------------------------------------------------------


async def test_java_client_runs_against_admin(admin_address: str) -> None:
    started = time.monotonic()
    generated = await _generate("java")
    work = _fresh_copy(HERE / "java", _cache() / "java")
    # Maven compiles incrementally (generation leaves unchanged sources untouched) and keeps its
    # downloads in ~/.m2.
    # Maven alone takes seconds to find nothing to do: skip it when nothing changed.
    built = _digest(work / "pom.xml", work / "src", generated / ".generated-from")
    if _stale(work / "target" / ".built-from", built) or not (work / "classpath.txt").exists():
        maven = ["mvn", "-B", "-q", f"-Dflyteidl.sources={generated / 'src' / 'main' / 'java'}"]
        await _run(
            *maven, "compile", "dependency:build-classpath", "-Dmdep.outputFile=classpath.txt",
            cwd=work, time_limit=BUILD_TIME_LIMIT,
        )  # fmt: skip
        (work / "target" / ".built-from").write_text(built)
    _report("java", time.monotonic() - started)

    classpath = os.pathsep.join([str(work / "target" / "classes"), (work / "classpath.txt").read_text().strip()])
    execution = f"java{int(time.time()) % 100000}"
    output = await _run(
        "java", "-cp", classpath, "example.FlyteClient", *_program_args(admin_address, execution),
        cwd=work, time_limit=RUN_TIME_LIMIT,
    )  # fmt: skip
    _check(output, execution)


# --- TypeScript --------------------------------------------------------------------------------


async def test_typescript_connect_client_runs_against_admin(admin_address: str) -> None:
    started = time.monotonic()
    generated = await _generate("ts")
    work = _fresh_copy(HERE / "ts", _cache() / "ts")
    if _stale(work / "node_modules" / ".installed-from", _digest(work / "package-lock.json")):
        await _run("npm", "ci", "--no-audit", "--no-fund", cwd=work, time_limit=BUILD_TIME_LIMIT)
        (work / "node_modules" / ".installed-from").write_text(_digest(work / "package-lock.json"))
    shutil.rmtree(work / "gen", ignore_errors=True)
    shutil.copytree(generated, work / "gen")
    built = _digest(work / "main.ts", work / "tsconfig.json", work / "package-lock.json", work / "gen")
    if _stale(work / "dist" / ".built-from", built):
        await _run(work / "node_modules" / ".bin" / "tsc", "-p", ".", cwd=work, time_limit=BUILD_TIME_LIMIT)
        (work / "dist" / ".built-from").write_text(built)
    _report("ts", time.monotonic() - started)

    execution = f"ts{int(time.time()) % 100000}"
    output = await _run(
        "node", work / "dist" / "main.js", *_program_args(admin_address, execution), cwd=work, time_limit=RUN_TIME_LIMIT
    )
    _check(output, execution)


# --- Rust --------------------------------------------------------------------------------------


async def test_rust_tonic_client_runs_against_admin(admin_address: str) -> None:
    started = time.monotonic()
    generated = await _generate("rust")
    work = _fresh_copy(HERE / "rust", _cache() / "rust")
    manifest = work / "Cargo.toml"
    manifest.write_text(
        manifest.read_text().replace('path = "../../../../build/clients/rust"', f'path = "{generated}"')
    )
    protoc = sorted((ROOT / ".tools").glob("protoc-*/bin/protoc"))[-1]
    # One target dir for every run (and for every checkout sharing the test cache): only what
    # changed is rebuilt. The registry stays in ~/.cargo.
    env = {"CARGO_TARGET_DIR": str(_cache() / "cargo-target"), "PROTOC": str(protoc)}
    await _run("cargo", "build", "--locked", "--quiet", cwd=work, env=env, time_limit=BUILD_TIME_LIMIT)
    _report("rust", time.monotonic() - started)

    execution = f"rust{int(time.time()) % 100000}"
    binary = _cache() / "cargo-target" / "debug" / "flyteclient"
    output = await _run(binary, *_program_args(admin_address, execution), cwd=work, time_limit=RUN_TIME_LIMIT)
    _check(output, execution)
