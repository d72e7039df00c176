"""Builds and caches the virtualenvs of flytekit ImageSpecs with uv, once per build plan, for the local backend.

A task whose image names an ImageSpec document (`plugins.local.imagespec`) waits, INITIALIZING with the
build's percentage as its reason, while one build per plan runs in this process; every attempt waiting for
it is woken when it ends. On disk, `<env_dir>/<plan key>/` is the environment and `.flyteplane-ready` in
it the proof it is whole: written last, so a build cut short (a crash, a kill) is never used -- the next
build, holding `<plan key>.lock` (flock, so concurrent planes build it once), removes it and starts over.
`<plan key>.log` keeps uv's output. A failed build fails the attempts waiting for it with its error; a
later request builds again after `retry_failed_after_seconds`.
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import logging
import math
import os
import shutil
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from plugins.config import ImageSpecConfig, LocalEnvironment
from plugins.core import Phase, TaskExecutionContext, Transition
from plugins.local.imagespec import (
    BuildPlan,
    ImageSpecError,
    ImageSpecImage,
    plan,
    read_document,
)

log = logging.getLogger(__name__)

READY = ".flyteplane-ready"
SOURCE_DIR = "root"  # the source root's files, where flytekit's Docker builder puts them (/root)
INSTALL_STEPS = 8  # installs are split into this many uv calls, so the log shows a percentage as they go
_REQUIREMENTS_IN = "flyteplane-requirements.in"
_LOCKED = "flyteplane-requirements.txt"
_ERROR_TAIL = 3000


class BuildFailed(Exception):
    """A uv step failed; the message says which and quotes uv."""


@dataclass
class _Build:
    plan: BuildPlan
    task: asyncio.Task[None] | None = None
    percent: int = 0
    step: str = "waiting for its turn"
    wakes: dict[str, Callable[[], None]] = field(default_factory=dict)  # by attempt
    error: str | None = None
    failed_at: float = 0.0


def environment_of(plan: BuildPlan, root: Path) -> LocalEnvironment:
    """The local environment a built plan stands for: its virtualenv, the spec's variables, its source files."""
    source = root / SOURCE_DIR
    return LocalEnvironment(venv=root, python_path=(source,) if plan.source_archive else (), env=dict(plan.env))


class ImageSpecEnvironments:
    """The ImageSpec environments of one local backend: resolves a task's image to a built environment."""

    def __init__(self, config: ImageSpecConfig, default_environment: LocalEnvironment) -> None:
        self.config = config
        self.default_environment = default_environment
        self._plans: dict[str, BuildPlan] = {}  # by document URI (content-addressed, so never stale)
        self._ready: dict[str, LocalEnvironment] = {}  # by plan key; one object each (the backend keys on it)
        self._builds: dict[str, _Build] = {}
        self._defaults: tuple[str, str | None] | None = None

    async def resolve(self, ctx: TaskExecutionContext, image: ImageSpecImage) -> LocalEnvironment | Transition:
        """The built environment of `image`; else INITIALIZING while it builds, or the failure that ends the task."""
        try:
            build_plan = await self._plan(ctx, image)
        except ImageSpecError as exc:
            return Transition.failure("ImageSpecUnsupported", str(exc), retryable=False)
        ready = self._ready.get(build_plan.key)
        if ready is not None:
            return ready
        root = self.config.env_dir / build_plan.key
        if await asyncio.to_thread((root / READY).exists):
            return self._remember(build_plan, root)
        build = self._builds.get(build_plan.key)
        if build is not None and build.error is not None:
            if time.monotonic() - build.failed_at < self.config.retry_failed_after_seconds:
                message = f"building the environment of ImageSpec {build_plan.label} failed: {build.error}"
                return Transition.failure("ImageSpecBuildFailed", message, retryable=False)
            build = None
        if build is None:
            build = _Build(build_plan)
            self._builds[build_plan.key] = build
            build.task = asyncio.get_running_loop().create_task(self._run(build, ctx))
        if build.task is not None and build.task.done() and build.error is None:
            return self._ready[build_plan.key]
        build.wakes[ctx.generated_name] = ctx.wake
        return Transition(
            Phase.INITIALIZING,
            version=build.percent,
            reason=f"building the environment of ImageSpec {build_plan.label}: {build.percent}% ({build.step})",
        )

    async def aclose(self) -> None:
        tasks = [b.task for b in self._builds.values() if b.task is not None and not b.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the plan -------------------------------------------------------------------------------------

    async def _plan(self, ctx: TaskExecutionContext, image: ImageSpecImage) -> BuildPlan:
        known = self._plans.get(image.document_uri)
        if known is not None:
            return known
        try:
            data = await ctx.storage.read(image.document_uri)
        except Exception as exc:  # any store error: the document is what the task cannot do without
            raise ImageSpecError(f"cannot read the ImageSpec document {image.document_uri}: {exc}") from exc
        python, flytekit_version = await self._defaults_of_task_environment()
        built = plan(read_document(data), default_python=python, flytekit_version=flytekit_version)
        self._plans[image.document_uri] = built
        return built

    async def _defaults_of_task_environment(self) -> tuple[str, str | None]:
        if self._defaults is None:
            self._defaults = await asyncio.to_thread(_task_environment_defaults, self.default_environment)
        return self._defaults

    def _remember(self, build_plan: BuildPlan, root: Path) -> LocalEnvironment:
        return self._ready.setdefault(build_plan.key, environment_of(build_plan, root))

    # -- the build ------------------------------------------------------------------------------------

    async def _run(self, build: _Build, ctx: TaskExecutionContext) -> None:
        started = time.monotonic()
        try:
            root = await self._build(build, ctx)
            self._remember(build.plan, root)
            elapsed = time.monotonic() - started
            log.info("ImageSpec %s: environment ready in %.1f s: %s", build.plan.label, elapsed, root)
        except BaseException as exc:
            build.error = str(exc) if isinstance(exc, BuildFailed | ImageSpecError | OSError) else repr(exc)
            build.failed_at = time.monotonic()
            log.warning("ImageSpec %s: build failed: %s", build.plan.label, build.error)
            if not isinstance(exc, Exception):
                raise
        finally:
            wakes, build.wakes = build.wakes, {}
            for wake in wakes.values():
                wake()

    def _progress(self, build: _Build, percent: int, step: str) -> None:
        build.percent, build.step = percent, step
        log.info("ImageSpec %s: %d%% %s", build.plan.label, percent, step)

    async def _build(self, build: _Build, ctx: TaskExecutionContext) -> Path:
        build_plan = build.plan
        env_dir = self.config.env_dir
        root = env_dir / build_plan.key
        await asyncio.to_thread(env_dir.mkdir, parents=True, exist_ok=True)
        lock = await asyncio.to_thread(open, env_dir / f"{build_plan.key}.lock", "w")
        try:
            self._progress(build, 0, "waiting for the build lock")
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            if await asyncio.to_thread((root / READY).exists):  # another process built it meanwhile
                return root
            await asyncio.to_thread(_remove, root)  # what a build cut short left
            archive = await ctx.storage.read(build_plan.source_archive) if build_plan.source_archive else None
            await self._build_locked(build, root, env_dir / f"{build_plan.key}.log", archive)
            return root
        finally:
            await asyncio.to_thread(lock.close)  # releases the flock

    async def _build_locked(self, build: _Build, root: Path, log_path: Path, archive: bytes | None) -> None:
        build_plan = build.plan
        work = root / ".flyteplane-build"
        uv = UvRunner(self.config, log_path)
        await asyncio.to_thread(log_path.write_text, f"building ImageSpec {build_plan.label} as {root}\n")
        self._progress(build, 1, f"creating the virtualenv (python {build_plan.python})")
        venv_output = await uv.run("venv", "--python", build_plan.python, str(root), check=False)
        if venv_output.returncode != 0:
            why = (
                "is not available on the machine that runs the plane (uv finds no such interpreter; it downloads none)"
                if "No interpreter found" in venv_output.text
                else "cannot make a virtualenv there"
            )
            raise BuildFailed(f"ImageSpec field 'python_version': Python {build_plan.python} {why}: {venv_output.tail}")
        python = str(root / "bin" / "python")
        await asyncio.to_thread(_write_inputs, work, build_plan)
        self._progress(build, 5, f"resolving {len(build_plan.requirements)} requirement(s)")
        await uv.run(
            "pip", "compile", "--python", python, "--no-header", "--no-annotate", "--quiet",
            *build_plan.index_args(), *build_plan.extra_args,
            "-o", str(work / _LOCKED), str(work / _REQUIREMENTS_IN),
        )  # fmt: skip
        pinned = await asyncio.to_thread(_pinned, work / _LOCKED)
        per_step = max(1, math.ceil(len(pinned) / INSTALL_STEPS))
        done = 0
        self._progress(build, 20, f"installing {len(pinned)} package(s)")
        for start in range(0, len(pinned), per_step):
            chunk = pinned[start : start + per_step]
            await uv.run(
                "pip", "install", "--python", python, "--no-deps", *build_plan.index_args(), *build_plan.extra_args,
                *chunk,
            )  # fmt: skip
            done += len(chunk)
            self._progress(build, 20 + (75 * done) // len(pinned), f"installed {done}/{len(pinned)} packages")
        if archive is not None:
            self._progress(build, 96, "unpacking the source root")
            await asyncio.to_thread(unpack_source, archive, root / SOURCE_DIR)
        await asyncio.to_thread(_mark_ready, root)
        self._progress(build, 100, "ready")


@dataclass(frozen=True)
class UvOutput:
    returncode: int
    text: str

    @property
    def tail(self) -> str:
        return self.text[-_ERROR_TAIL:].strip() or "(no output)"


class UvRunner:
    """Runs uv with the plane's cache, no user configuration and no Python downloads; appends to the build log."""

    def __init__(self, config: ImageSpecConfig, log_path: Path) -> None:
        self.log_path = log_path
        self.env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": os.environ.get("HOME", "/"),
            "UV_CACHE_DIR": str(config.uv_cache),
            "UV_PYTHON_DOWNLOADS": "never",  # a missing python is the spec's error, not a download
            "UV_NO_CONFIG": "1",
            "UV_NO_PROGRESS": "1",
        }
        # Where the machine says how to reach an index (and how uv links from its cache).
        for name in (
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "UV_INDEX_URL",
            "UV_LINK_MODE",
        ):
            if name in os.environ:
                self.env[name] = os.environ[name]

    async def run(self, *args: str, check: bool = True) -> UvOutput:
        process = await asyncio.create_subprocess_exec(
            uv_binary(), *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=self.env,
        )  # fmt: skip
        stdout, _ = await process.communicate()
        text = stdout.decode(errors="replace")
        await asyncio.to_thread(_append, self.log_path, f"$ uv {' '.join(args)}\n{text}")
        output = UvOutput(process.returncode if process.returncode is not None else -1, text)
        if check and output.returncode != 0:
            raise BuildFailed(f"`uv {' '.join(args[:2])}` failed (exit {output.returncode}): {output.tail}")
        return output


def uv_binary() -> str:
    """uv from its PyPI wheel (a dependency of flyteplane), else the one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv") or "uv"


def _task_environment_defaults(environment: LocalEnvironment) -> tuple[str, str | None]:
    """The default task environment's python (else this process's) and flytekit version (None: not found)."""
    if environment.venv is None:
        return sys.executable, None
    python = environment.venv / "bin" / "python"
    version = None
    for info in sorted(environment.venv.glob("lib/python*/site-packages/flytekit-*.dist-info")):
        version = info.name.removeprefix("flytekit-").removesuffix(".dist-info")
    return (str(python) if python.exists() else sys.executable), version


def _write_inputs(work: Path, build_plan: BuildPlan) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / _REQUIREMENTS_IN).write_text(build_plan.requirements_in())
    if build_plan.requirements_file is not None:
        (work / build_plan.requirements_file.name).write_text(build_plan.requirements_file.text)


def _pinned(locked: Path) -> list[str]:
    """The requirements `uv pip compile` wrote: one `name==version` (with markers, URLs) a line."""
    lines = (line.strip() for line in locked.read_text().splitlines())
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def unpack_source(archive: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(target, filter="data")  # no absolute paths, no escaping links


def _mark_ready(root: Path) -> None:
    partial = root / (READY + ".partial")
    partial.write_text(f"built {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
    os.replace(partial, root / READY)


def _remove(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)


def _append(path: Path, text: str) -> None:
    with path.open("a") as stream:
        stream.write(text)
