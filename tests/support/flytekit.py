"""Real flytekit (1.16.31) as a client of a running admin: `pyflyte` and FlyteRemote scripts as subprocesses.

flytekit registers the published `flyteidl.*` in protobuf's descriptor pool, which would clash with
flyteidl_py, so it never enters the test process: it lives in its own cached virtualenv and every
use is a subprocess with a deadline. The helpers are async because the admin under test usually
serves from the test's own event loop, which a blocking wait would starve.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.venvs import cache_root, ensure_venv

FLYTEKIT_VERSION = "1.16.31"
# The `agent` extra: `pyflyte serve agent` (prometheus-client, grpcio-health-checking) runs from this environment
# too, with the AWS SageMaker plugin's agents (boto, sagemaker-endpoint, sagemaker-training-job, ...).
REQUIREMENTS = [
    f"flytekit[agent]=={FLYTEKIT_VERSION}",
    f"flytekitplugins-awssagemaker=={FLYTEKIT_VERSION}",
    "pandas",
    "pyarrow",
]
DEFAULT_TIME_LIMIT = 180.0

# What flytekit prints when it falls into its interactive PKCE login, from which it never returns.
_PKCE_PROMPT = "Please open the following link in your browser"
_HANG_CAUSE = (
    "flytekit hangs forever when admin answers a call with gRPC status UNKNOWN (an exception no handler "
    "mapped to a status) or UNAUTHENTICATED: it then starts a PKCE browser login. Look for an uncaught "
    "exception in admin's log."
)


def flytekit_bin() -> Path:
    """The bin/ directory of a virtualenv with flytekit (and pandas, pyarrow), built once and cached."""
    return ensure_venv(f"flytekit-{FLYTEKIT_VERSION}", REQUIREMENTS).parent


class FlytekitFailed(AssertionError):
    """A flytekit subprocess exited non-zero, printed invalid output, or ran past its deadline."""


@dataclass(frozen=True)
class Finished:
    args: tuple[str, ...]
    stdout: str
    stderr: str


def write_config(path: Path, grpc_port: int, http_port: int) -> Path:
    """A flytekit config file for an admin on loopback: plain-text gRPC, no auth."""
    path.write_text(
        "admin:\n"
        f"  endpoint: dns:///127.0.0.1:{grpc_port}\n"
        "  insecure: true\n"
        "  authType: Pkce\n"
        "console:\n"
        f"  endpoint: http://127.0.0.1:{http_port}\n"
        "logger:\n"
        "  level: 0\n"
    )
    return path


def _client_env(bin_dir: Path) -> dict[str, str]:
    # Nothing from the caller's own Flyte setup may redirect the client away from the admin under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYTE", "_F_", "PYTHON"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env["FLYTE_SDK_RICH_TRACEBACKS"] = "0"
    env["COLUMNS"] = "400"  # rich wraps long entity names at the terminal width, which breaks parsing
    return env


async def _collect(stream: asyncio.StreamReader, sink: list[str], prompted: asyncio.Event) -> None:
    while line := await stream.readline():
        text = line.decode(errors="replace")
        sink.append(text)
        if _PKCE_PROMPT in text:
            prompted.set()


def _tail(lines: list[str]) -> str:
    return "".join(lines[-60:]) or "(nothing)\n"


def _describe(args: tuple[str, ...], stdout: list[str], stderr: list[str], headline: str) -> str:
    command = " ".join(args)
    return f"{headline}\n$ {command}\n--- stdout (tail) ---\n{_tail(stdout)}--- stderr (tail) ---\n{_tail(stderr)}"


async def run_client(
    *args: str | os.PathLike[str], cwd: Path, env: dict[str, str], time_limit: float = DEFAULT_TIME_LIMIT
) -> Finished:
    """Run one flytekit command to completion; raise FlytekitFailed naming the cause when it does not succeed.

    The command runs in its own process group, killed as a whole on a deadline or as soon as
    flytekit announces its browser login (which means admin gave UNKNOWN or UNAUTHENTICATED).
    """
    argv = tuple(str(a) for a in args)
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    stdout: list[str] = []
    stderr: list[str] = []
    prompted = asyncio.Event()
    readers = asyncio.gather(_collect(process.stdout, stdout, prompted), _collect(process.stderr, stderr, prompted))
    prompt_seen = asyncio.ensure_future(prompted.wait())
    exited = asyncio.ensure_future(process.wait())
    try:
        done, _ = await asyncio.wait({prompt_seen, exited}, timeout=time_limit, return_when=asyncio.FIRST_COMPLETED)
    finally:
        prompt_seen.cancel()
        # The command if it is still running, and whatever it left behind holding our pipes open.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await exited
        await readers
    if exited not in done:
        why = "started an interactive browser login" if prompted.is_set() else f"did not finish in {time_limit:.0f}s"
        raise FlytekitFailed(_describe(argv, stdout, stderr, f"flytekit {why}. {_HANG_CAUSE}"))
    if process.returncode != 0:
        raise FlytekitFailed(_describe(argv, stdout, stderr, f"flytekit exited with status {process.returncode}"))
    return Finished(argv, "".join(stdout), "".join(stderr))


@dataclass(frozen=True)
class Flytekit:
    """flytekit pointed at one admin, working in a project directory that holds the user's packages."""

    bin_dir: Path
    config: Path
    project_dir: Path
    project: str = "flytesnacks"
    domain: str = "development"
    # Directories put on the client's PYTHONPATH: flytekit plugins installed there (`pip install --target`)
    # are found through their entry points, without a virtualenv of their own.
    python_path: tuple[Path, ...] = ()

    @classmethod
    def for_admin(cls, bin_dir: Path, grpc_port: int, http_port: int, project_dir: Path) -> Flytekit:
        """flytekit from `bin_dir` (see flytekit_bin) for the admin on these loopback ports."""
        project_dir.mkdir(parents=True, exist_ok=True)
        config = write_config(project_dir / "flytekit-config.yaml", grpc_port, http_port)
        return cls(bin_dir, config, project_dir)

    def add_package(self, source: Path, name: str) -> Path:
        """Copy a package of workflows into the project directory, where pyflyte finds its root."""
        target = self.project_dir / name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        return target

    async def pyflyte(self, *args: str | os.PathLike[str], time_limit: float = DEFAULT_TIME_LIMIT) -> Finished:
        return await run_client(
            self.bin_dir / "pyflyte", "--config", self.config, *args,
            cwd=self.project_dir, env=self._env(), time_limit=time_limit,
        )  # fmt: skip

    def _env(self) -> dict[str, str]:
        env = _client_env(self.bin_dir)
        if self.python_path:
            env["PYTHONPATH"] = os.pathsep.join(str(p) for p in self.python_path)
        return env

    async def register(self, *packages: str, version: str) -> Finished:
        """`pyflyte register` (fast register: the code bundle goes through the data proxy)."""
        return await self.pyflyte("register", "-p", self.project, "-d", self.domain, "--version", version, *packages)

    async def run_remote(self, file: str, entity: str, *inputs: str, name: str | None = None) -> Finished:
        """`pyflyte run --remote FILE ENTITY --input value ...`, naming the execution when `name` is given."""
        named = ("--name", name) if name else ()
        return await self.pyflyte(
            "run", "--remote", "-p", self.project, "-d", self.domain, *named, file, entity, *inputs
        )

    async def remote(self, script: Path, params: dict[str, Any], time_limit: float = DEFAULT_TIME_LIMIT) -> Any:
        """Run a FlyteRemote script with flytekit's python; returns the JSON of its last stdout line.

        The script gets `<config file> <project> <domain> <params as JSON>` as its arguments.
        """
        finished = await run_client(
            self.bin_dir / "python", script, self.config, self.project, self.domain, json.dumps(params),
            cwd=self.project_dir, env=self._env(), time_limit=time_limit,
        )  # fmt: skip
        lines = finished.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError) as exc:
            raise FlytekitFailed(
                _describe(
                    finished.args,
                    finished.stdout.splitlines(True),
                    finished.stderr.splitlines(True),
                    f"{script.name} did not end its output with a JSON line",
                )
            ) from exc


def registered_entities(output: str) -> dict[str, set[str]]:
    """What `pyflyte register` reports as registered, by kind: {"Task": {...}, "Workflow": ..., "Launch Plan": ...}."""
    entities: dict[str, set[str]] = {"Task": set(), "Workflow": set(), "Launch Plan": set()}
    for line in output.splitlines():
        if line.startswith("[✔] "):
            kind, _, name = line[4:].partition(": ")
            entities.setdefault(kind, set()).add(name.strip())
    return entities


FLYTEKIT_PLUGIN = Path(__file__).resolve().parents[2] / "clients" / "flytekit-plugin"


def flyteplane_plugin_path(bin_dir: Path) -> Path:
    """A directory holding flyteplane's flytekit plugin (`clients/flytekit-plugin`) installed without its
    dependencies: on a client's PYTHONPATH (`Flytekit.python_path`) it registers the `flyteplane` ImageSpec
    builder. Installed once per version of the plugin's files (keyed by their digest), with `bin_dir`'s pip."""
    digest = hashlib.sha256()
    for file in sorted([*FLYTEKIT_PLUGIN.glob("pyproject.toml"), *FLYTEKIT_PLUGIN.glob("flytekitplugins/**/*.py")]):
        digest.update(str(file.relative_to(FLYTEKIT_PLUGIN)).encode() + b"\0" + file.read_bytes())
    target = cache_root() / f"flytekitplugins-flyteplane-{digest.hexdigest()[:12]}"
    ready = target / ".ready"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            shutil.rmtree(target, ignore_errors=True)
            with tempfile.TemporaryDirectory() as scratch:  # pip builds in a copy: the checkout stays clean
                source = Path(scratch) / "plugin"
                shutil.copytree(FLYTEKIT_PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
                subprocess.run(
                    [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     "--no-deps", "--target", str(target), str(source)],
                    check=True,
                )  # fmt: skip
            ready.write_text(digest.hexdigest())
    return target
