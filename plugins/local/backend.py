"""The `local` backend: container tasks (python-task & co., flytekit-java's java-task) run as processes here.

Each attempt gets a directory `<work_dir>/<generated name>` and a supervisor process
(`plugins.local.runner`) in a session of its own, which runs the task's command and writes the
exit status to a file. That makes `handle` level-triggered and restart-safe:

- the first call builds the command (`plugins.local.command`), starts the runner and answers
  RUNNING with the runner's record (pid, process group, kernel start time) as plugin state; the
  runner also leaves that record in the attempt directory;
- later calls -- also from a restarted propeller, with the persisted state or, if the state was
  lost, the record file -- report RUNNING while that pid is alive with the same start time,
  and decide the outcome once `status.json` exists; a runner that died without a status is a
  retryable system failure. A runner holds a lock on the attempt for its lifetime, so a second
  start of the same attempt never runs the task twice.

A flytekit-java task runs jflyte on a local Java (`plugins.local.jflyte`). Data paths of a `file://` store reach
the process as plain local paths (see
`plugins.common.command.local_path`), others (s3://, gs://) as URIs with the store's credentials in
the environment -- or, with `storage.s3.task_credentials.mode: sts`, short-lived credentials of the attempt's own
(`flyteplane.storage.task_credentials`), never the store's keys.

Outcome: flytekit exits 0 even when the task failed, so success is exit 0 and no error document;
`error.pb` decides retryable (RECOVERABLE) or permanent, user or system (its origin). Without one, a
crash is what Flyte makes of a container that exits non-zero: a retryable user failure, counted on
the task's own retry budget, naming the exit code or signal and the log and quoting the log's end --
but for SIGKILL, which comes from outside (like a node going away: a retryable system failure).
Exceeding the memory limit (the task's, else the backend's `default_memory_limit`) is a retryable
user failure `OOMKilled` that names the limit. stdout and stderr go to one log per attempt,
uploaded to `<output prefix>/task.log` while the task runs (at most every
`log_upload_interval_seconds`) and when it ends, and reported as the task's log link.

Warm starts (`warm`, on by default): a flytekit task whose environment has a virtualenv starts as a
process forked from a fork server of that environment (and code bundle) that has already imported
flytekit (`plugins.local.warm.plan` decides, `plugins.local.warm.pool` runs the servers). The server
itself keeps the runner's files and rules for the task processes it forks (lock, record, status), so
everything above holds whichever path started an attempt; a task process that died without reporting its
exit is recorded by the server a moment later, while it still holds the attempt's lock, which `handle` waits
for. While an environment's first server starts, its attempts report
INITIALIZING and are woken when it is ready; when no server can take an attempt (it failed to
start, died, or cannot fork safely) the attempt starts cold.

Reuse mode (`warm_mode: reuse`, or FLYTEPLANE_WARM=reuse in a task's environment): successive
attempts run in the same long-lived warm worker (`plugins.local.warm.worker`) instead of a process
each, for the last milliseconds; what they then share is said there. The worker keeps the runner's
files (its record is marked `reuse`), so the rules above hold with two differences that follow from
a process outliving its attempt: an attempt is over once `status.json` exists (or once this plugin's
worker has gone on to another attempt), and aborting an attempt kills its worker, which the pool
replaces. An attempt that finds every worker busy waits in the pool's queue (NOT_READY: no event) and
is woken when a worker takes it.

Isolation (`isolation.mode: users`, off by default; `plugins.local.isolation`): the task process of every path runs
as its project's own unprivileged uid in a private mount namespace that shows it only its own attempt's places,
inputs, outputs, raw-output prefix and code -- entered by the cold runner between fork and exec and by a fork
server's task process after the fork (`plugins.local.sandbox`); runners and fork servers stay root, and
the attempt directory stays theirs, so its record and status are still the plane's word. Isolated attempts do not
run in reuse workers (they are forked instead) and fork servers import no task module for them. `start` refuses
to run with isolation on when the plane lacks root's privileges.

From "node ready" to "task running" nothing sleeps or polls: the command is built, the attempt
handed to a fork server or worker (or the cold runner started, which says on a pipe when it has
recorded itself), and RUNNING returned. A watcher per running attempt calls `ctx.wake()` when it
ends (our child's exit, a pidfd on a runner we re-attached to, the reuse worker's word). And since
propeller evaluates every active node on each pass, `handle` answers for attempts it follows
without touching a file. A warm attempt `handle` finds running (or queued for a worker) is waited
for up to `linger_seconds`, once: a quick task is then reported done by the call that started it,
which spares propeller a round, a wake-up and the RUNNING events of its own.

The event loop never blocks: file work runs in threads (one trip per look at an attempt's files, batched with the
engine pass's others: `flyteplane.threads`) and processes are asyncio subprocesses.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from flyteidl_py.core import errors_pb2, execution_pb2, literals_pb2
from flyteplane.errors import NotFound, Unavailable
from flyteplane.storage.task_credentials import CredentialsUnavailable
from flyteplane.threads import batched
from plugins.common.background import cancel_and_wait, wait_briefly
from plugins.common.command import container_of, local_path
from plugins.common.log_links import live_log_url
from plugins.common.state import decode_state, encode_state
from plugins.config import CONTAINER_TASK_TYPES, JAVA_TASK_TYPES, LocalPluginConfig
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition
from plugins.local import launch
from plugins.local.attempt import log_tail
from plugins.local.command import (
    Command,
    build_command,
    environment_variables,
    unmapped_code_hint,
)
from plugins.local.imagespec import parse_image
from plugins.local.imagespec_env import ImageSpecEnvironments
from plugins.local.isolation import (
    TASK_USER,
    check_privileges,
    literal_paths,
    plan_sandbox,
    prepare_attempt,
    project_uid,
    seal,
)
from plugins.local.metrics import LocalMetrics
from plugins.local.protocol import (
    ELEMENT_INPUTS,
    LOCK,
    RECORD,
    RECORDED,
    RUNNER_ERRORS,
    SCRATCH_DIRECTORIES,
    SPEC,
    STATUS,
    TMP_DIRECTORY,
    AttemptStatus,
    RunnerRecord,
    decode_record,
    decode_status,
)
from plugins.local.secrets import DIRECTORY as SECRETS_DIRECTORY
from plugins.local.warm.plan import PICKLE_NAME, WarmPlan, python_of, server_key, warm_enabled
from plugins.local.warm.plan import bundle_dir as warm_bundle_dir
from plugins.local.warm.plan import plan as warm_plan
from plugins.local.warm.pool import Readiness, WarmPool, download

log = logging.getLogger(__name__)

STATE_VERSION = 1
LOG_FILE = "task.log"
BUNDLE_FLAG = "--additional-distribution"
MAP_TASK_RESOLVER = "flytekit.core.array_node_map_task.ArrayNodeMapTaskResolver"
INDEX_OFFSET_VARIABLE = "BATCH_JOB_ARRAY_INDEX_OFFSET"
# What a task that outgrew a memory rlimit leaves in its log: Python's MemoryError, C++'s bad_alloc, libc's ENOMEM.
_OUT_OF_MEMORY = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")
# flytekit (1.16) reports a MemoryError the task raised as USER:RuntimeError, its traceback ending in this line.
_MEMORY_ERROR = re.compile(r"^\s*MemoryError\b", re.MULTILINE)
_MODULE_NOT_FOUND = re.compile(r"\bModuleNotFoundError\b")
# How long a runner that holds an attempt's lock after its task process died may take to record the status.
_RECORDING_SECONDS = 5.0


@dataclass(frozen=True)
class AttemptRecord:
    """Who runs an attempt: the plugin state of a started attempt, and the runner's record file."""

    work_dir: str
    pid: int
    pgid: int
    start_time: int | None  # kernel start time (clock ticks since boot); None where /proc is missing
    version: int = STATE_VERSION
    # A reuse worker runs it (`plugins.local.warm.worker`): the process outlives the attempt, so the attempt
    # is over once status.json exists, or once the worker -- if this plugin's -- has gone on to another.
    reuse: bool = False

    def encode(self) -> bytes:
        value = asdict(self)
        if not self.reuse:
            del value["reuse"]  # the state of the other paths reads as it always did
        return encode_state(value)

    @classmethod
    def decode(cls, data: bytes) -> AttemptRecord | None:
        """The record in `data`; None for empty state; ValueError for state this version cannot read."""
        value = decode_state(data, STATE_VERSION, "local plugin")
        return None if value is None else cls(**value)


@dataclass
class _Watch:
    """Who waits for a running attempt to end, and what to do then."""

    task: asyncio.Task[None]
    wake: Callable[[], None]
    exited: asyncio.Future[None]  # done once the attempt is over
    linger: bool  # a warm attempt: worth waiting for briefly in `handle`
    lingered: bool = False  # `handle` waited for it once already
    lingering: bool = False  # `handle` waits for it now: it sees the end itself, no wake-up needed


@dataclass
class _LogUpload:
    at: float = 0.0
    size: int = -1


@dataclass(frozen=True)
class _Owned:
    """What an isolated attempt's uid is given before it starts (`plugins.local.isolation.prepare_attempt`)."""

    uid: int
    writable_dirs: tuple[Path, ...]
    owned_files: tuple[Path, ...]


def process_alive(record: AttemptRecord) -> bool:
    """True while the recorded runner runs: same pid, same kernel start time, and not a zombie."""
    try:
        stat = Path(f"/proc/{record.pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        stat = ""
    if stat:
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):
            return False
        return record.start_time is None or int(fields[19]) == record.start_time
    try:  # no /proc: the best we can do is ask whether the pid exists
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return value if isinstance(value, dict) else None


def _read_record(attempt: Path) -> AttemptRecord | None:
    value = _read_json(attempt / RECORD)
    if value is None:
        return None
    return _record_of(attempt, decode_record(value))


def _record_of(attempt: Path, record: RunnerRecord, *, reuse: bool | None = None) -> AttemptRecord:
    reuse = record.get("reuse", False) if reuse is None else reuse
    return AttemptRecord(str(attempt), record["pid"], record["pgid"], record.get("start_time"), reuse=reuse)


@dataclass(frozen=True)
class _Look:
    """What one look into an attempt's directory found."""

    status: AttemptStatus | None
    record: AttemptRecord | None
    log_size: int | None


def _look(attempt: Path, record: AttemptRecord | None) -> _Look:
    """status.json, the record (read unless known) and the log's size, in one go (one trip to a thread)."""
    status = _read_status(attempt)
    if record is None:
        record = _read_record(attempt)
        if status is None and record is not None:
            status = _read_status(attempt)  # it may have finished between the two reads
    try:
        size: int | None = (attempt / LOG_FILE).stat().st_size
    except FileNotFoundError:
        size = None
    return _Look(status, record, size)


def _read_status(attempt: Path) -> AttemptStatus | None:
    value = _read_json(attempt / STATUS)
    return None if value is None else decode_status(value)


def _lock_held(attempt: Path) -> bool:
    """Whether a runner holds the attempt's lock (it is starting or running)."""
    try:
        handle = (attempt / LOCK).open("a")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _prepare(attempt: Path, command: Command, inputs: bytes | None = None, *, cold: bool = True) -> None:
    """The attempt's directory, log and inputs (when given), and for a `cold` start the cold runner's spec. The runner
    makes the scratch directories (`plugins.local.attempt.make_scratch`); the bundle's destination is made here when
    it is not the working directory; the attempt's directory exists already. The log is there before anything runs:
    admin streams a running attempt's log from that file when it exists, else from the copy uploaded every few
    seconds."""
    if command.environment.working_dir is not None:
        (attempt / "code").mkdir(exist_ok=True)
    (attempt / LOG_FILE).touch()
    if inputs is not None:
        _write_new(attempt / ELEMENT_INPUTS, inputs)
    if cold:
        _write_spec(attempt, command)


def _write_spec(attempt: Path, command: Command) -> None:
    # The environment may carry storage credentials: owner-readable only.
    _write_new(attempt / SPEC, json.dumps(command.spec(attempt / LOG_FILE)).encode())


def _write_new(path: Path, data: bytes) -> None:
    """Writes `path` under a temporary name of its own, then renames it: two engines may prepare the same attempt
    at once (its lock then decides which one runs it), and neither may see the other's half-written file."""
    temp = path.with_name(f"{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)


def _started_level(ctx: TaskExecutionContext) -> int:
    """How an attempt's start is logged: a map task's elements at DEBUG (a 10,000-element map would write as many
    lines, and a line each cost the plane about 2% of its CPU per forked element; the array node's task event counts
    them), every other task at INFO."""
    return logging.DEBUG if ctx.array_index is not None else logging.INFO


def _picks_element_by_index(ctx: TaskExecutionContext) -> bool:
    """Whether the attempt is an element of a flytekit map task (`pyflyte-map-execute` with the ArrayNode resolver),
    which reads its inputs' collections at index BATCH_JOB_ARRAY_INDEX_OFFSET + its array index."""
    container = container_of(ctx.template)
    if ctx.array_index is None or container is None:
        return False
    argv = [*container.command, *container.args]
    return MAP_TASK_RESOLVER in argv and any(arg.rsplit("/", 1)[-1] == "pyflyte-map-execute" for arg in argv)


async def _narrowed_inputs(ctx: TaskExecutionContext) -> literals_pb2.LiteralMap | None:
    """A flytekit map-task element's own inputs (the array's narrowed to it), else None: flytekit decodes every
    literal of the inputs it is given before it picks its element, so a map of n elements given the array's
    inputs costs each element O(n) (a third of a second at 10,000) and the map O(n^2)."""
    if ctx.narrowed_inputs_reader is None or not _picks_element_by_index(ctx):
        return None
    return await ctx.narrowed_inputs_reader()


def _cleanup(attempt: Path) -> int | None:
    """Everything but the log and the small records that keep a late `handle` from starting a copy; the log's size."""
    for name in (*SCRATCH_DIRECTORIES, SECRETS_DIRECTORY):
        try:
            (attempt / name).rmdir()  # usually removed by the runner already: spares rmtree's walk
        except FileNotFoundError:
            pass
        except OSError:
            shutil.rmtree(attempt / name, ignore_errors=True)
    for path in (attempt / SPEC, *attempt.glob(SPEC + ".*.tmp"), attempt / ELEMENT_INPUTS):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    try:
        return (attempt / LOG_FILE).stat().st_size
    except FileNotFoundError:
        return None


def _resolved(expose: list[tuple[str, bool]], trusted: set[str]) -> list[tuple[str, bool]]:
    """`expose` with the `trusted` paths (the plane's own) resolved to their real paths; blocking."""
    return [(os.path.realpath(path) if path in trusted else path, writable) for path, writable in expose]


def _distributed_errors(ctx: TaskExecutionContext) -> bool:
    """Whether flytekit writes `error-<id>.pb` instead of error.pb for this task (a distributed error strategy)."""
    names = ("FLYTE_INTERNAL_DIST_ERROR_STRATEGY", "_F_DES")
    if any(ctx.environment.get(name) for name in names):
        return True
    container = container_of(ctx.template)
    return container is not None and any(pair.key in names and pair.value for pair in container.env)


def _quantity(size: int) -> str:
    """`size` bytes as a Kubernetes quantity (`2Gi`, `1536Mi`), in the largest binary unit that divides it."""
    for unit, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class LocalPlugin:
    """Runs container tasks as local processes; see the module docstring."""

    id = "local"
    task_types: tuple[str, ...] = (*CONTAINER_TASK_TYPES, *JAVA_TASK_TYPES)

    def __init__(self, config: LocalPluginConfig | None = None) -> None:
        self.config = config or LocalPluginConfig()
        self._locks: dict[str, asyncio.Lock] = {}
        self._watches: dict[str, _Watch] = {}
        self._log_uploads: dict[str, _LogUpload] = {}
        # Attempts `abort` withdrew from a reuse worker's queue before they ran: `finalize` uploads no log for them.
        self._never_ran: set[str] = set()
        # Each environment's variables, read from this process's environment once (the config does not change).
        self._base_envs: dict[int, dict[str, str]] = {}
        self._uids: dict[str, int] = {}  # isolation: each project's uid, once looked up
        self.warm_pool = WarmPool(self.config.warm_pool, self.config.work_dir, self.config.start_timeout_seconds)
        self.image_specs = ImageSpecEnvironments(self.config.image_spec, self.config.default_environment)
        self.metrics: LocalMetrics | None = None

    def register_metrics(self, registry: CollectorRegistry) -> None:
        """How attempts start and the warm pool's size, in the engine's registry (plugins.core.ReportsMetrics)."""
        self.metrics = self.warm_pool.metrics = LocalMetrics(registry)
        self.warm_pool.count()

    async def start(self) -> None:
        """Checks that isolation (if on) can be had; pre-warms the default environment's fork servers (in the
        background) when warm starts are on."""
        check_privileges(self.config.isolation)
        environment = self.config.default_environment
        python = python_of(environment)
        if not self.config.warm_pool.prewarm or not warm_enabled(environment, self.config) or python is None:
            return
        self.warm_pool.prewarm(server_key(environment, python, environment_variables(environment, self.config)))

    # -- the plugin interface -----------------------------------------------------------------------

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        name = ctx.generated_name
        async with self._lock(name):
            return await self._handle(ctx, name)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        """Stops the attempt's whole process group: SIGTERM, then SIGKILL after `kill_grace_seconds`.

        An attempt in a reuse worker takes the worker with it (the pool replaces it); one still waiting for a
        worker is taken off the queue."""
        name = ctx.generated_name
        async with self._lock(name):
            attempt, record = await self._find(ctx, name)
            withdrawn = self.warm_pool.cancel_queued(str(attempt))
            held = record is None and await batched(partial(_lock_held, attempt))
            if held:
                record = await self._await_record(attempt, None)  # a runner is starting: wait for its record
            if record is not None and await self._attempt_running(attempt, record):
                await self._kill(record)
            self._stop_watch(name)
            if withdrawn and not held and record is None:
                # It waited for a reuse worker, none was handed it and no runner holds it: it never ran, and its
                # log is the empty file `_prepare` made. Nothing to upload, now or when it is finalized (a map of
                # thousands queued elements, terminated, otherwise wrote as many empty logs to the store).
                self._never_ran.add(name)
                return
            await self._upload_log(ctx, name, attempt, force=True)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        """Releases the attempt: no process left running, log uploaded, scratch directories removed."""
        name = ctx.generated_name
        async with self._lock(name):
            attempt, record = await self._find(ctx, name)
            withdrawn = self.warm_pool.cancel_queued(str(attempt))
            if record is not None and await self._attempt_running(attempt, record):
                await self._kill(record)
            self._stop_watch(name)
            size = await batched(partial(_cleanup, attempt))
            never_ran = name in self._never_ran or (withdrawn and record is None and size == 0)
            if not never_ran:
                await self._upload_log(ctx, name, attempt, force=True, size=size)
            self._never_ran.discard(name)
            self._log_uploads.pop(name, None)
        self._locks.pop(name, None)

    async def aclose(self) -> None:
        """Stops watching and the fork servers; the attempts keep running and a new instance re-attaches to them."""
        watches = list(self._watches.values())
        self._watches.clear()
        await cancel_and_wait(watch.task for watch in watches)
        await self.image_specs.aclose()
        await self.warm_pool.aclose()

    # -- handle ---------------------------------------------------------------------------------------

    async def _handle(self, ctx: TaskExecutionContext, name: str) -> Transition:
        try:
            record = AttemptRecord.decode(ctx.plugin_state)
        except (ValueError, TypeError, KeyError) as exc:
            return Transition.failure(
                "CorruptedPluginState", f"cannot read the local plugin's state: {exc}", retryable=True, system=True
            )
        attempt = Path(record.work_dir) if record is not None else self.config.work_dir / name
        transition = self._unchanged(ctx, name, attempt, record) or await self._decide(ctx, name, attempt, record)
        for _ in range(2):  # queued -> started -> finished, at most
            if transition.phase not in (Phase.NOT_READY, Phase.RUNNING) or not await self._linger(ctx, name, attempt):
                break
            transition = await self._decide(ctx, name, attempt, AttemptRecord.decode(transition.state))
        return transition

    def _unchanged(
        self, ctx: TaskExecutionContext, name: str, attempt: Path, record: AttemptRecord | None
    ) -> Transition | None:
        """The answer, without touching a file, for an attempt this plugin follows and that cannot have moved: one
        queued for a reuse worker, or one whose end its watch has not seen (and whose log is not due an upload).
        Propeller asks about every active node of an execution on every pass, so this is most calls."""
        if record is None and self.warm_pool.is_queued(str(attempt), ctx.wake):
            return self._queued()
        watch = self._watches.get(name)
        if record is None or watch is None or watch.exited.done():
            return None
        last = self._log_uploads.get(name)
        if last is None or time.monotonic() - last.at >= self.config.log_upload_interval_seconds:
            return None
        watch.wake = ctx.wake
        return self._running_transition(ctx, attempt, record)

    async def _linger(self, ctx: TaskExecutionContext, name: str, attempt: Path) -> bool:
        """Waits up to `linger_seconds` for an attempt queued for a reuse worker to start, or -- once per attempt --
        for a warm attempt it just saw running to end; whether it did (the caller then looks again)."""
        linger = self.config.linger_seconds
        if linger <= 0:
            return False
        key = str(attempt)
        if self.warm_pool.is_queued(key):
            return await self.warm_pool.wait_started(key, ctx.wake, linger)
        watch = self._watches.get(name)
        if watch is None or not watch.linger or watch.lingered or watch.exited.done():
            return False
        watch.lingered = watch.lingering = True
        try:
            return await wait_briefly(watch.exited, linger)
        finally:
            watch.lingering = False

    async def _decide(
        self, ctx: TaskExecutionContext, name: str, attempt: Path, record: AttemptRecord | None
    ) -> Transition:
        """What the attempt's files say: finished, running, lost -- or not started yet (then it starts)."""
        if record is None:  # most likely a new attempt: start it, unless its directory shows a runner or a result
            started = await self._start(ctx, name, attempt)
            if started is not None:
                return started
        try:
            look = await batched(partial(_look, attempt, record))
        except (ValueError, TypeError, KeyError) as exc:
            return Transition.failure(
                "CorruptedRunnerRecord", f"cannot read the attempt's record: {exc}", retryable=True, system=True
            )
        record = look.record
        if look.status is not None:
            return await self._finished(ctx, name, attempt, record, look.status, look.log_size)
        if record is not None:
            finished = self._reuse_finished(attempt, record)
            if finished is not None or (process_alive(record) and not self._moved_on(record)):
                self._watch(ctx, name, attempt, record, None, linger=record.reuse)
                return await self._running(ctx, name, attempt, record)
            status = await batched(partial(_read_status, attempt))  # it may have just finished
            if status is None:
                status = await self._recorded_status(attempt)
            if status is not None:
                return await self._finished(ctx, name, attempt, record, status, None)
            if not record.reuse or not process_alive(record):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(record.pgid, signal.SIGKILL)  # whatever the runner left behind
            await self._upload_log(ctx, name, attempt, force=True)
            tail = await asyncio.to_thread(log_tail, attempt / LOG_FILE, self.config.error_tail_bytes)
            return Transition.failure(
                "ProcessLost",
                f"the task's runner (pid {record.pid}) is gone without recording an exit status; last output:\n{tail}",
                retryable=True,
                system=True,
                state=record.encode(),
                logs=self._log_links(ctx),
            )
        return Transition(Phase.INITIALIZING, reason="another runner of this attempt is starting")

    @staticmethod
    async def _recorded_status(attempt: Path) -> AttemptStatus | None:
        """The status of an attempt whose recorded runner is gone while its lock is still held: a fork server's task
        process that died without a report is, until the server (which holds the lock) has written its status."""
        deadline = time.monotonic() + _RECORDING_SECONDS
        held = partial(_lock_held, attempt)
        while await batched(held) and time.monotonic() < deadline:  # noqa: ASYNC110 - a lock has no event
            await asyncio.sleep(0.01)
        return await batched(partial(_read_status, attempt))

    async def _find(self, ctx: TaskExecutionContext, name: str) -> tuple[Path, AttemptRecord | None]:
        """The attempt directory and its runner record: from the plugin state, else from the record file."""
        record = AttemptRecord.decode(ctx.plugin_state)
        if record is not None:
            return Path(record.work_dir), record
        attempt = self.config.work_dir / name
        return attempt, await batched(partial(_read_record, attempt))

    def _reuse_finished(self, attempt: Path, record: AttemptRecord) -> asyncio.Future[None] | None:
        """For an attempt in one of this plugin's reuse workers: what resolves once it is finished."""
        if not record.reuse:
            return None
        return self.warm_pool.running_reuse_attempt(str(attempt), record.pid)

    def _moved_on(self, record: AttemptRecord) -> bool:
        """Whether the record's reuse worker is this plugin's and runs something else by now (so this attempt is
        over). A worker of another plugin instance (before a restart) gets no new attempts: it exits after its last."""
        return record.reuse and self.warm_pool.owns_worker(record.pid)

    async def _attempt_running(self, attempt: Path, record: AttemptRecord) -> bool:
        """Whether the recorded runner still runs this attempt (a reuse worker outlives its attempts)."""
        if not record.reuse:
            return process_alive(record)
        if self._reuse_finished(attempt, record) is not None:
            return True
        if self._moved_on(record) or not process_alive(record):
            return False
        return await batched(partial(_read_status, attempt)) is None

    async def _start(self, ctx: TaskExecutionContext, name: str, attempt: Path) -> Transition | None:
        """Starts the attempt; None when its directory shows that a runner has (had) it already."""
        container = container_of(ctx.template)
        image_spec = parse_image(container.image) if container is not None else None
        environment = None
        if image_spec is not None:  # built once per spec; the attempt waits (INITIALIZING) while it builds
            resolved = await self.image_specs.resolve(ctx, image_spec)
            if isinstance(resolved, Transition):
                return resolved
            environment = resolved
        try:
            narrowed = await _narrowed_inputs(ctx)
            command_ctx = ctx
            if narrowed is not None:
                command_ctx = replace(ctx, paths=replace(ctx.paths, inputs=str(attempt / ELEMENT_INPUTS)))
            command = await build_command(
                command_ctx, self.config, attempt, base_envs=self._base_envs, environment=environment
            )
            if narrowed is not None and ctx.array_index is not None:
                if INDEX_OFFSET_VARIABLE in command.env:  # the task shifts its index itself: give it the array's
                    narrowed = None
                    command = await build_command(
                        ctx, self.config, attempt, base_envs=self._base_envs, environment=environment
                    )
                else:  # flytekit picks element offset + index: position 0 of the narrowed collections
                    command = replace(command, env={**command.env, INDEX_OFFSET_VARIABLE: str(-ctx.array_index)})
        except BadTaskDefinition as exc:
            return exc.transition()
        except NotFound as exc:
            return Transition.failure("InputsNotFound", str(exc), retryable=True, system=True)
        except CredentialsUnavailable as exc:  # STS gave no scoped credentials: never the plane's keys instead
            return Transition.failure("StorageCredentialsUnavailable", str(exc), retryable=True, system=True)
        except Unavailable as exc:  # admin gave no token for the task's calls back (auth on)
            return Transition.failure("TaskTokenUnavailable", str(exc), retryable=True, system=True)
        inputs = None if narrowed is None else narrowed.SerializeToString(deterministic=True)
        owned: _Owned | None = None
        if self.config.isolation.mode != "off":
            command, owned = await self._isolated(ctx, attempt, command, narrowed)
        warm, found = await batched(partial(self._plan_start, attempt, command, inputs, owned))
        if found == "held":
            return Transition(Phase.INITIALIZING, reason="another runner of this attempt is starting")
        if found == "ran":
            return None
        readiness = Readiness.COLD
        if isinstance(warm, WarmPlan):
            readiness = self.warm_pool.readiness(warm.key, ctx.storage, ctx.wake)
            if readiness is Readiness.WARMING:
                return Transition(Phase.INITIALIZING, reason="waiting for a warm fork server of the task's environment")
        handed = inputs if isinstance(warm, WarmPlan) and owned is None else None  # see `_plan_start`
        if isinstance(warm, WarmPlan) and readiness is Readiness.READY:
            running = await self._start_warm(ctx, name, attempt, command, warm, handed)
            if running is not None:
                return running
        elif isinstance(warm, str):
            log.debug("%s starts cold: %s", name, warm)
        if isinstance(warm, WarmPlan):  # planned warm, so prepared without what the cold runner reads
            await asyncio.to_thread(_prepare, attempt, command, handed)
        errors = await asyncio.to_thread((attempt / RUNNER_ERRORS).open, "ab")
        with errors:
            process = await asyncio.create_subprocess_exec(
                *launch.command(sys.executable, "runner", str(attempt), isolated=True),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=errors,
                cwd=attempt, env={"PATH": os.environ.get("PATH", os.defpath)}, start_new_session=True,
            )  # fmt: skip
        record = await self._runner_record(attempt, process)
        if record is None:
            text = await asyncio.to_thread(log_tail, attempt / RUNNER_ERRORS, self.config.error_tail_bytes)
            message = f"the local task runner did not start: {text or 'no output'}"
            return Transition.failure("RunnerFailed", message, retryable=True, system=True)
        log.log(_started_level(ctx), "started %s (pid %d) for %s", name, record.pid, ctx.task_execution_id.task_id.name)
        if self.metrics is not None:
            self.metrics.attempts_started.labels("cold").inc()
        self._watch(ctx, name, attempt, record, process, linger=False)
        return await self._running(ctx, name, attempt, record)

    def _plan_start(
        self, attempt: Path, command: Command, inputs: bytes | None, owned: _Owned | None = None
    ) -> tuple[WarmPlan | str, str]:
        """How the attempt starts (warm, or why not), and what its directory shows: a runner holding it ("held"),
        one's record or result ("ran"), or neither ("new": then it is prepared -- again, harmlessly, when the
        attempt waits for a fork server -- with `inputs` as its own inputs.pb when given)."""
        warm = warm_plan(command, self.config)
        try:  # a directory this call makes holds nothing yet: no runner, record or result to look for
            attempt.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            if (attempt / RECORD).exists() or (attempt / STATUS).exists():
                return warm, "ran"
            if _lock_held(attempt):
                return warm, "held"
        # A warm attempt's own inputs go with the request to whoever runs it, who writes them (a file less for the
        # plane per map element) -- but for an isolated one: its inputs are the plane's file, given to its user.
        handed_over = isinstance(warm, WarmPlan) and owned is None
        _prepare(attempt, command, None if handed_over else inputs, cold=not isinstance(warm, WarmPlan))
        if owned is not None:
            prepare_attempt(attempt, owned.uid, owned.writable_dirs, owned.owned_files)
        return warm, "new"

    async def _isolated(
        self,
        ctx: TaskExecutionContext,
        attempt: Path,
        command: Command,
        narrowed: literals_pb2.LiteralMap | None,
    ) -> tuple[Command, _Owned]:
        """`command` fenced in as `plugins.local.isolation` says: the project's uid, the sandbox it enters, HOME and
        USER of its own; and what that uid is given before the attempt starts."""
        uid = await self._project_uid(ctx)
        inputs = narrowed if narrowed is not None else await ctx.read_inputs()
        environment = command.environment
        paths = ctx.paths
        tmp = attempt / TMP_DIRECTORY
        writable = [tmp, attempt / "code"]
        expose: list[tuple[str, bool]] = [(str(attempt), True), (command.cwd, True)]
        if environment.working_dir is None:
            writable.append(Path(command.cwd))
        for place in (paths.output_prefix, paths.raw_output_prefix):
            local = local_path(place)
            if local.startswith("/"):
                writable.append(Path(local))
                expose.append((local, True))
        read_only = [local_path(paths.inputs).rpartition("/")[0], local_path(paths.previous_checkpoint_prefix)]
        task_named = set(literal_paths(inputs))
        read_only += sorted(task_named)
        # The code bundle (or pickled task) `pyflyte-fast-execute` fetches -- what the task's registration names --
        # and where fork servers have it extracted (on their PYTHONPATH).
        argv = command.argv
        bundles = [argv[i + 1] for i in range(len(argv) - 1) if argv[i] == BUNDLE_FLAG]
        task_named.update(local_path(bundle) for bundle in bundles)
        read_only += [local_path(bundle) for bundle in bundles]
        code = [environment.venv, *environment.python_path, self.config.jflyte.home]
        code += [warm_bundle_dir(self.config, bundle) for bundle in bundles]
        read_only += [str(path) for path in code if path is not None]
        expose += [(path, False) for path in read_only if path.startswith("/")]
        hide = [str(self.config.work_dir), *(str(path) for path in self.config.isolation.hide)]
        storage_config = getattr(ctx.storage, "config", None)
        if storage_config is not None:
            hide.append(str(storage_config.local_root))
        # The plane's own paths as they really are: the sandbox shows nothing reached through a symbolic link, which
        # is how a link a task planted among its project's data (an input) is kept from showing the plane's files.
        trusted = {path for path, _ in expose if path not in task_named}
        expose = await asyncio.to_thread(_resolved, expose, trusted)
        # A /tmp of its own: where a fork server's flytekit named its scratch directory (created anew as the uid).
        sandbox = plan_sandbox(uid, hide, expose, scratch=command.base_env.get("TMPDIR") or "/tmp")
        env = dict(command.env)
        if "HOME" not in environment.env:
            env["HOME"] = str(tmp)  # the plane's own home is not the task's (nor reachable)
        env.update(USER=TASK_USER, LOGNAME=TASK_USER)  # no passwd entry: getpass reads these first
        owned = _Owned(uid, tuple(writable), (attempt / SECRETS_DIRECTORY, attempt / ELEMENT_INPUTS))
        return replace(command, env=env, sandbox=sandbox), owned

    async def _project_uid(self, ctx: TaskExecutionContext) -> int:
        """The uid (and gid) of the attempt's project: recorded once, then known (a project keeps its uid)."""
        project = ctx.task_execution_id.node_execution_id.execution_id.project
        uid = self._uids.get(project)
        if uid is None:
            uid = await asyncio.to_thread(project_uid, self.config.work_dir, project, self.config.isolation)
            self._uids[project] = uid
        return uid

    async def _start_warm(
        self,
        ctx: TaskExecutionContext,
        name: str,
        attempt: Path,
        command: Command,
        warm: WarmPlan,
        inputs: bytes | None = None,
    ) -> Transition | None:
        """Starts the attempt from a fork server (or in a reuse worker), handing it its own `inputs` if given; None
        when none took it (the caller starts it cold)."""
        if warm.pickle_uri:  # what pyflyte-fast-execute would fetch: flytekit opens it from the working directory
            try:
                await batched(partial(Path(warm.dest_dir).mkdir, parents=True, exist_ok=True))
                await download(warm.pickle_uri, Path(warm.dest_dir) / PICKLE_NAME, ctx.storage)
            except (OSError, NotFound):
                log.info("%s starts cold: cannot fetch %s", name, warm.pickle_uri, exc_info=True)
                return None
        request = warm.request(attempt, command, attempt / LOG_FILE, fsync_status=self.config.warm_pool.fsync_status)
        if inputs is not None:
            request["inputs"] = base64.b64encode(inputs).decode()
        started = await self.warm_pool.start_attempt(warm.key, request, ctx.wake)
        if started is None:
            log.info("%s starts cold: no warm fork server took it", name)
            return None
        if started.result == "queued":
            return self._queued()
        # `started`: the record is written (and usually in the answer); `busy`/`done`: another runner's record is
        # there or coming.
        record: AttemptRecord | None = None
        if started.result == "started" and started.record is not None:
            record = _record_of(attempt, started.record, reuse=warm.key.reuse)
        else:
            record = await self._await_record(attempt, None)
        if record is None:
            return None
        log.log(
            _started_level(ctx),
            "started %s %s (pid %d, %s %d) for %s",
            name, "in a reuse worker" if record.reuse else "warm", record.pid,
            "worker" if record.reuse else "fork server", started.server_pid, ctx.task_execution_id.task_id.name,
        )  # fmt: skip
        if self.metrics is not None and started.result == "started":  # `busy`/`done`: another runner started it
            self.metrics.attempts_started.labels("reuse" if record.reuse else "fork").inc()
        self._watch(ctx, name, attempt, record, None, linger=True)
        return await self._running(ctx, name, attempt, record, log_written=False)

    async def _runner_record(self, attempt: Path, process: asyncio.subprocess.Process) -> AttemptRecord | None:
        """The record of the runner just started, once it says it wrote it (no polling); if it exits without a
        word (another runner holds the attempt), that one's record."""
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), self.config.start_timeout_seconds)
        except TimeoutError:
            line = b""
        if line == RECORDED:
            record = await asyncio.to_thread(_read_record, attempt)
            if record is not None:
                return record
        return await self._await_record(attempt, process)

    async def _await_record(self, attempt: Path, process: asyncio.subprocess.Process | None) -> AttemptRecord | None:
        """The runner's record once it has written it; None if it never does within `start_timeout_seconds`."""
        deadline = time.monotonic() + self.config.start_timeout_seconds
        while True:
            record = await asyncio.to_thread(_read_record, attempt)
            if record is not None:
                return record
            exited = process is not None and process.returncode is not None
            if exited or time.monotonic() > deadline:
                # A runner that lost the race to another one exits at once; that one's record may still come.
                if exited and await asyncio.to_thread(_lock_held, attempt) and time.monotonic() <= deadline:
                    process = None
                    continue
                return await asyncio.to_thread(_read_record, attempt)
            await asyncio.sleep(0.01)

    async def _running(
        self, ctx: TaskExecutionContext, name: str, attempt: Path, record: AttemptRecord, *, log_written: bool = True
    ) -> Transition:
        if log_written:
            await self._upload_log(ctx, name, attempt, force=False)
        else:  # right after the start nothing can be in the log yet: the next upload is due an interval from now
            self._log_uploads.setdefault(name, _LogUpload()).at = time.monotonic()
        return self._running_transition(ctx, attempt, record)

    def _running_transition(self, ctx: TaskExecutionContext, attempt: Path, record: AttemptRecord) -> Transition:
        return Transition(
            Phase.RUNNING,
            reason="process running",
            logs=self._log_links(ctx),
            custom_info={"pid": record.pid, "work_dir": str(attempt)},
            state=record.encode(),
        )

    @staticmethod
    def _queued() -> Transition:
        # Like waiting for resource tokens: not started, nothing to report (no task event) until a worker takes it.
        # The pool wakes the attempt's context when a worker takes it (or lets it go).
        reason = "waiting for a free reuse worker of the task's environment"
        return Transition(Phase.NOT_READY, reason=reason, wakes=True)

    async def _finished(
        self,
        ctx: TaskExecutionContext,
        name: str,
        attempt: Path,
        record: AttemptRecord | None,
        status: AttemptStatus,
        log_size: int | None,
    ) -> Transition:
        self._stop_watch(name)
        await self._upload_log(ctx, name, attempt, force=True, size=log_size)
        state = record.encode() if record else b""
        exit_code, signal_number, start_error = status["exit_code"], status["signal"], status.get("start_error")
        common: dict[str, Any] = {
            "logs": self._log_links(ctx),
            "custom_info": {"work_dir": str(attempt), "exit_code": exit_code, "signal": signal_number},
            "state": state,
        }
        if self.config.isolation.mode != "off":
            places = [Path(p) for p in map(local_path, (ctx.paths.output_prefix, ctx.paths.raw_output_prefix))]
            gid = await self._project_uid(ctx)
            links = await asyncio.to_thread(seal, [place for place in places if place.is_absolute()], gid)
            if links:
                message = f"the task left symbolic links among its outputs, which isolation refuses: {', '.join(links)}"
                return Transition.failure("SymbolicLinkInOutputs", message, retryable=False, **common)
        limit = status.get("memory_limit_bytes")
        document = await self._error_document(ctx)
        if document is not None:
            error = document.error
            if limit is not None and (error.code.endswith("MemoryError") or _MEMORY_ERROR.search(error.message)):
                return self._oom(limit, error.message, common)
            retryable = error.kind == errors_pb2.ContainerError.RECOVERABLE
            system = error.origin == execution_pb2.ExecutionError.SYSTEM
            message = self._with_code_hint(ctx, error.message)
            return Transition.failure(error.code, message, retryable=retryable, system=system, **common)
        if start_error is not None:
            code = "CommandNotFound" if status.get("errno") == errno.ENOENT else "CannotStart"
            message = f"cannot start the task: {start_error}"
            return Transition.failure(code, message, retryable=False, system=True, **common)
        if exit_code == 0:
            return Transition(Phase.SUCCESS, reason="process exited 0", **common)
        tail = await asyncio.to_thread(log_tail, attempt / LOG_FILE, self.config.error_tail_bytes)
        if limit is not None and any(sign in tail for sign in _OUT_OF_MEMORY):
            return self._oom(limit, tail, common)
        log_uri = self._log_uri(ctx)
        if signal_number == signal.SIGKILL:
            # Not the task's doing, as a node going away is not (the k8s backend says the same of exit 137).
            message = f"the task process was killed by SIGKILL (log: {log_uri}); last output:\n{tail}"
            return Transition.failure("Interrupted", message, retryable=True, system=True, **common)
        # Like a container that exits non-zero: the user's failure, retried on the task's own budget.
        how = (
            f"was killed by {_signal_name(signal_number)}"
            if signal_number is not None
            else f"exited with code {exit_code}"
        )
        message = self._with_code_hint(
            ctx,
            f"the task process {how} without reporting an error (no error.pb; log: {log_uri}); last output:\n{tail}",
        )
        code = "Interrupted" if signal_number is not None else "NonZeroExitCode"
        return Transition.failure(code, message, retryable=True, **common)

    def _with_code_hint(self, ctx: TaskExecutionContext, message: str) -> str:
        """`message`, and how to map the task's image when its code was missing because the image is not mapped."""
        if not _MODULE_NOT_FOUND.search(message):
            return message
        hint = unmapped_code_hint(ctx.template, self.config)
        return f"{message}\n\n{hint}" if hint else message

    @staticmethod
    def _oom(limit: int, detail: str, common: Mapping[str, Any]) -> Transition:
        # A user failure, as Flyte's OOMKilled is: the task outgrew the limit it declared (or the platform's default).
        message = f"the task exceeded its memory limit of {limit} bytes ({_quantity(limit)}): {detail}"
        return Transition.failure("OOMKilled", message, retryable=True, **common)

    async def _error_document(self, ctx: TaskExecutionContext) -> errors_pb2.ErrorDocument | None:
        """error.pb, or -- for a task under a distributed error strategy -- an `error-<id>.pb` flytekit wrote."""
        storage = ctx.storage
        candidates = [ctx.paths.error]
        if not await storage.exists(ctx.paths.error):
            if not _distributed_errors(ctx):
                return None
            prefix = storage.join(ctx.paths.output_prefix, "error-")
            candidates = [info.uri async for info in storage.list(prefix) if info.uri.endswith(".pb")]
        for uri in candidates:
            with contextlib.suppress(NotFound):
                return await storage.read_proto(uri, errors_pb2.ErrorDocument)
        return None

    # -- processes ------------------------------------------------------------------------------------

    async def _kill(self, record: AttemptRecord) -> None:
        if not process_alive(record):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._exit_of(record), self.config.kill_grace_seconds)
        if process_alive(record):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(record.pgid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):  # SIGKILL is delivered asynchronously
                await asyncio.wait_for(self._exit_of(record), 10.0)
        # The runner is gone; members of its group that outlived it (it kills them on a normal exit) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pgid, signal.SIGKILL)

    def _watch(
        self,
        ctx: TaskExecutionContext,
        name: str,
        attempt: Path,
        record: AttemptRecord,
        process: asyncio.subprocess.Process | None,
        *,
        linger: bool,
    ) -> None:
        """Calls the latest `ctx.wake` once the attempt is over (unless `handle` is waiting for that itself): our
        child's exit, the reuse worker's word that it finished, or (re-attached after a restart) the recorded
        runner's exit."""
        current = self._watches.get(name)
        if current is not None and not current.task.done():
            current.wake = ctx.wake
            return

        async def wait_for_exit() -> None:
            finished = self._reuse_finished(attempt, record)
            if finished is not None:
                await finished
            elif process is not None:
                await process.wait()
            elif not self._moved_on(record):
                await self._exit_of(record)
            watch = self._watches.get(name)
            if watch is not None:
                if not watch.exited.done():
                    watch.exited.set_result(None)
                if not watch.lingering:
                    watch.wake()

        task = asyncio.create_task(wait_for_exit(), name=f"local-watch-{name}")
        self._watches[name] = _Watch(task, ctx.wake, asyncio.get_running_loop().create_future(), linger)

    async def _exit_of(self, record: AttemptRecord) -> None:
        """Returns once the recorded runner has exited: a pidfd where Linux offers one, else polling."""
        try:
            pidfd = os.pidfd_open(record.pid)
        except (AttributeError, OSError):
            pidfd = None
        if pidfd is None:
            while process_alive(record):  # noqa: ASYNC110 - no pidfd: nothing to wait on but time
                await asyncio.sleep(self.config.poll_interval_seconds)
            return
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not exited.done():
                exited.set_result(None)

        try:
            if not process_alive(record):  # checked after opening: the pidfd is of the recorded process
                return
            loop.add_reader(pidfd, readable)
            await exited
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)

    def _stop_watch(self, name: str) -> None:
        watch = self._watches.pop(name, None)
        if watch is not None and asyncio.current_task() is not watch.task:
            watch.task.cancel()

    # -- logs -----------------------------------------------------------------------------------------

    @staticmethod
    def _log_uri(ctx: TaskExecutionContext) -> str:
        return ctx.storage.join(ctx.paths.output_prefix, LOG_FILE)

    def _log_links(self, ctx: TaskExecutionContext) -> list[execution_pb2.TaskLog]:
        """The store's copy of the log, and (with `log_link_base`) admin's live view of it that a person can open."""
        links = [execution_pb2.TaskLog(uri=self._log_uri(ctx), name="Task log (local process)")]
        if self.config.log_link_base is not None:
            links.append(execution_pb2.TaskLog(uri=live_log_url(self.config.log_link_base, ctx), name="Task log"))
        return links

    async def _upload_log(
        self, ctx: TaskExecutionContext, name: str, attempt: Path, *, force: bool, size: int | None = None
    ) -> None:
        """Copies the attempt's log to the store when it changed (and, unless forced, not too recently).
        `size`: the log's size if the caller has just looked."""
        path = attempt / LOG_FILE
        last = self._log_uploads.setdefault(name, _LogUpload())
        now = time.monotonic()
        if not force and now - last.at < self.config.log_upload_interval_seconds:
            return
        if size is None:
            try:
                size = (await batched(path.stat)).st_size
            except FileNotFoundError:
                return
        if size == last.size:
            return
        await ctx.storage.write_file(self._log_uri(ctx), path)
        last.at, last.size = now, size

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())


async def create(config: Mapping[str, Any]) -> LocalPlugin:
    """The factory the registry calls with `plugins.backends.local`; pre-warms the default environment."""
    plugin = LocalPlugin(LocalPluginConfig.model_validate(dict(config)))
    await plugin.start()
    return plugin
