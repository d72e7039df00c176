"""The `ray-tasks` backend: each attempt of an ordinary flytekit task runs as a Ray task on a running Ray cluster.

The plane never imports ray (ray brings its own protobuf usage into a process whose descriptor pool holds
flyteidl). It starts one long-lived driver, `<cluster python> plugins/ray_tasks/driver.py <settings>` under the
interpreter of the cluster's task environment (ray and flytekit), and speaks JSON lines with it (see that
module): `submit`, `status` and `cancel` by the attempt's generated name, and an unasked `finished` event per
attempt that ends. The driver holds a named detached dispatcher actor on the cluster, which starts each attempt
once under its name and keeps its outcome for `keep_finished_seconds`: so `handle` is idempotent, and a restarted
plane (with a new driver) finds its running attempts by name instead of starting them again. A driver that dies is
started again on the next call; the executions of attempts known to run are woken to ask for them again (the new
driver hears only of attempts that end while it runs), as is a running attempt without news for
`recheck_seconds` when it is handled.

An attempt is the task's own command (`pyflyte-fast-execute ... pyflyte-execute ...`, template variables rendered
for the attempt) with the task's environment (`FLYTE_INTERNAL_*`, the store's endpoint and credentials, the
execution's variables); it runs in a Ray worker, where flytekit stays imported between attempts. Its resources
(requests, else limits; after platform defaults) become the Ray task's request: cpu -> `num_cpus`, memory ->
`memory`, gpu -> `num_gpus`; without a cpu request, `default_num_cpus`; `resources` (custom Ray resources) are
added to every attempt's request. The attempt's log is copied to `<output prefix>/task.log` while it runs and
at its end, and reported as the attempt's log link; abort cancels the Ray task (`ray.cancel(force=True)`,
which kills the worker that runs it). The `finished` event wakes the execution, so running attempts are not
polled: exit 0 is success (propeller then reads outputs.pb or error.pb), another exit status the task's error
document when it wrote one, else a retryable system failure quoting the log's tail.

The plugin state says an attempt was submitted: handled again by a plane whose dispatcher no longer knows it
(its record expired, or the cluster was restarted), the attempt is done if it left outputs.pb or error.pb, else a
retryable system failure -- never started a second time. Secrets are not handed to Ray tasks yet: a task that
requests any is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flyteidl_py.core import errors_pb2, execution_pb2, tasks_pb2
from flyteplane.errors import NotFound, Unavailable
from flyteplane.storage.task_credentials import CredentialsUnavailable
from plugins.common.background import cancel_and_wait
from plugins.common.command import (
    DYNAMIC_MARKER,
    container_of,
    flyte_environment,
    local_path,
    render_for_attempt,
    storage_environment,
)
from plugins.common.quantity import quantity, whole_units
from plugins.common.templates import rewrite_dest_dir, variables_in
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition, requested_secrets

log = logging.getLogger(__name__)

TASK_TYPES = ("python-task",)
LOG_FILE = "task.log"
DRIVER = Path(__file__).resolve().with_name("driver.py")
SUBMITTED = b"submitted"
_LINE_LIMIT = 1 << 22


class RayTasksConfig(BaseModel):
    """`plugins.backends.ray-tasks`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str = Field(default="127.0.0.1:6379", description="The cluster's GCS address (`ray.init(address=...)`).")
    python: Path = Field(
        default=Path(sys.executable),
        description="The interpreter the driver runs under: the cluster's task environment (ray, flytekit).",
    )
    namespace: str = Field(default="flyteplane", description="The Ray namespace of the dispatcher actor.")
    dispatcher: str = Field(default="flyteplane-ray-tasks", description="The dispatcher actor's name.")
    work_dir: str = Field(
        default="/tmp/flyteplane-ray-tasks",
        description="On every node: the attempts' logs and working directories, and extracted code bundles.",
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables of every attempt.")
    python_path: tuple[str, ...] = Field(default=(), description="Put on the attempts' sys.path (cluster paths).")
    default_num_cpus: float = Field(default=1.0, ge=0, description="`num_cpus` of an attempt that requests no cpu.")
    resources: dict[str, float] = Field(
        default_factory=dict, description="Custom Ray resources every attempt requests (e.g. a node label)."
    )
    keep_finished_seconds: float = Field(
        default=3600.0, gt=0, description="How long the dispatcher remembers an ended attempt."
    )
    log_upload_interval_seconds: float = Field(default=5.0, ge=0, description="0: the log is copied at the end only.")
    start_timeout_seconds: float = Field(default=120.0, gt=0, description="How long the driver may take to join.")
    request_timeout_seconds: float = Field(default=60.0, gt=0)
    driver_threads: int = Field(default=16, ge=1, description="Requests the driver has in flight at once.")
    error_tail_bytes: int = Field(default=4000, ge=0)
    recheck_seconds: float = Field(
        default=60.0, gt=0, description="A running attempt handled again after this long without news is asked for."
    )


State = dict[str, Any]


class _Driver:
    """The driver subprocess and the requests in flight to it; `on_finished` gets every `finished` event,
    `on_reset` is called whenever a driver ended or started (no events of attempts that end in between)."""

    def __init__(
        self, config: RayTasksConfig, on_finished: Callable[[State], None], on_reset: Callable[[], None]
    ) -> None:
        self.config = config
        self.on_finished = on_finished
        self.on_reset = on_reset
        self.process: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None
        self.pending: dict[int, asyncio.Future[State | None]] = {}
        self.ids = itertools.count(1)
        self.starting: asyncio.Lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None and self.reader is not None

    async def ensure(self) -> None:
        async with self.starting:
            if self.alive:
                return
            if self.process is not None and self.process.returncode is None:  # its output ended: it is no use
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
            settings = {
                "address": self.config.address,
                "namespace": self.config.namespace,
                "dispatcher": self.config.dispatcher,
                "keep_seconds": self.config.keep_finished_seconds,
                "driver_threads": self.config.driver_threads,
            }
            # The cluster environment's interpreter as its own: nothing of the plane's virtualenv leaks in.
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
            process = await asyncio.create_subprocess_exec(
                str(self.config.python), str(DRIVER), json.dumps(settings),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env, limit=_LINE_LIMIT,
            )  # fmt: skip
            assert process.stdout is not None
            try:
                line = await asyncio.wait_for(process.stdout.readline(), self.config.start_timeout_seconds)
                hello = json.loads(line) if line else {"ready": False, "error": "the driver exited"}
            except (TimeoutError, ValueError) as exc:
                hello = {"ready": False, "error": repr(exc)}
            if not hello.get("ready"):
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                raise Unavailable(f"the Ray cluster at {self.config.address} could not be joined: {hello.get('error')}")
            self.process = process
            self.reader = asyncio.create_task(self._read(process), name="ray-tasks-driver")
            self.on_reset()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while line := await process.stdout.readline():
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("ray-tasks driver said something unreadable: %r", line[:200])
                    continue
                if "event" in message:
                    self.on_finished(message["state"])
                    continue
                future = self.pending.pop(message.get("id"), None)
                if future is None or future.done():
                    continue
                if message.get("ok"):
                    future.set_result(message.get("state"))
                else:
                    future.set_exception(Unavailable(f"the Ray dispatcher refused: {message.get('error')}"))
        finally:
            self.reader = None
            if self.process is process:  # not closed on purpose: the next call starts a new driver
                log.warning("the ray-tasks driver ended (exit status %s)", process.returncode)
                self.on_reset()
            failed, self.pending = self.pending, {}
            for future in failed.values():
                if not future.done():
                    future.set_exception(Unavailable("the ray-tasks driver exited"))

    async def call(self, op: str, name: str, **fields: Any) -> State | None:
        """The dispatcher's record of attempt `name` after `op` (None: it knows no such attempt)."""
        await self.ensure()
        process = self.process
        assert process is not None and process.stdin is not None
        ident = next(self.ids)
        future: asyncio.Future[State | None] = asyncio.get_running_loop().create_future()
        self.pending[ident] = future
        try:
            process.stdin.write(json.dumps({"id": ident, "op": op, "name": name, **fields}).encode() + b"\n")
            await process.stdin.drain()
            return await asyncio.wait_for(future, self.config.request_timeout_seconds)
        except (OSError, TimeoutError) as exc:
            raise Unavailable(f"the ray-tasks driver did not answer {op} {name}: {exc!r}") from exc
        finally:
            self.pending.pop(ident, None)

    async def close(self) -> None:
        """Ends the driver (EOF on its input); the dispatcher and the attempts it holds stay on the cluster."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self.reader is not None:
            await cancel_and_wait([self.reader])


class RayTasksPlugin:
    """Serves ordinary Python tasks as Ray tasks on a Ray cluster; see the module docstring."""

    id = "ray-tasks"
    task_types: tuple[str, ...] = TASK_TYPES

    def __init__(self, config: RayTasksConfig | None = None) -> None:
        self.config = config or RayTasksConfig()
        self.driver = _Driver(self.config, self._finished, self._driver_reset)
        # The attempts this plane handles: their last known record (and when it was last asked for), and how to
        # wake their execution.
        self._states: dict[str, State] = {}
        self._checked: dict[str, float] = {}
        self._wakes: dict[str, Callable[[], None]] = {}

    def _driver_reset(self) -> None:
        """A driver hears only of attempts that end while it runs: what is known to run is asked for again (the
        executions are woken, and their next round starts a driver if none runs)."""
        for name in [n for n, state in self._states.items() if state.get("status") == "running"]:
            del self._states[name]
            wake = self._wakes.get(name)
            if wake is not None:
                wake()

    def _finished(self, state: State) -> None:
        name = str(state.get("name", ""))
        wake = self._wakes.get(name)
        if wake is None:  # not one of ours (any more): another plane's, or finalized
            return
        self._states[name] = state
        wake()

    def _remember(self, name: str, state: State) -> State:
        """Keeps `state` unless the `finished` event already told more (an answer may overtake it on the wire)."""
        known = self._states.get(name)
        if known is not None and known.get("status") != "running" and state.get("status") == "running":
            return known
        self._states[name] = state
        self._checked[name] = time.monotonic()
        return state

    # -- the plugin interface -----------------------------------------------------------------------------

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        name = ctx.generated_name
        self._wakes[name] = ctx.wake
        state = self._states.get(name)
        stale = time.monotonic() - self._checked.get(name, 0.0) > self.config.recheck_seconds
        if state is not None and state.get("status") == "running" and stale:
            state = None  # no news for a long while: ask (the dispatcher may be gone with a restarted cluster)
        if state is None:
            if ctx.plugin_state == SUBMITTED or name in self._states:
                found = await self.driver.call("status", name)
                if found is None:
                    return await self._lost(ctx)
            else:
                try:
                    spec, options = await self.submission(ctx)
                except BadTaskDefinition as exc:
                    return exc.transition()
                except CredentialsUnavailable as exc:  # never the store's keys instead of the attempt's own
                    return Transition.failure("StorageCredentialsUnavailable", str(exc), retryable=True, system=True)
                found = await self.driver.call("submit", name, spec=spec, options=options)
                if found is None:
                    raise Unavailable(f"the Ray dispatcher did not take attempt {name}")
            state = self._remember(name, found)
        return await self._transition(ctx, state)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        state = await self.driver.call("cancel", ctx.generated_name)
        if state is not None:
            self._remember(ctx.generated_name, state)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        self._wakes.pop(ctx.generated_name, None)
        self._states.pop(ctx.generated_name, None)
        self._checked.pop(ctx.generated_name, None)

    async def aclose(self) -> None:
        await self.driver.close()

    # -- submitting ---------------------------------------------------------------------------------------

    def attempt_dir(self, ctx: TaskExecutionContext) -> str:
        """The attempt's directory on the node it runs on."""
        return f"{self.config.work_dir.rstrip('/')}/{ctx.generated_name}"

    async def submission(self, ctx: TaskExecutionContext) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the attempt's spec for `run_attempt`, its Ray task options)."""
        container = container_of(ctx.template)
        if container is None:
            raise BadTaskDefinition(f"task type {ctx.template.type!r} has no container to run as a Ray task")
        if requested_secrets(ctx.template):
            raise BadTaskDefinition("the ray-tasks backend does not hand secrets to Ray tasks; run this task elsewhere")
        argv = await render_for_attempt(ctx, [*container.command, *container.args], namespace="", path=local_path)
        if not argv:
            raise BadTaskDefinition("the task's container has neither command nor args")
        if "remote_package_path" in variables_in(argv):
            raise BadTaskDefinition(
                "the command still holds {{ .remote_package_path }}: register with `pyflyte register`"
            )
        argv = rewrite_dest_dir(argv, f"{self.attempt_dir(ctx)}/cwd")
        paths = ctx.paths
        env = storage_environment(
            ctx.storage.config,
            [paths.inputs, paths.output_prefix, paths.raw_output_prefix, paths.checkpoint_prefix, *argv],
            scoped=ctx.scoped_storage_credentials,
        )
        env.update(ctx.platform_environment)
        env.update(self.config.env)
        env.update({pair.key: pair.value for pair in container.env})
        env.update(flyte_environment(ctx))
        env.update(ctx.environment)
        credentials = await ctx.read_storage_credentials()  # the attempt's own, when the store scopes them
        if credentials is not None:
            env.update(credentials.environment())
        env["PYTHONUNBUFFERED"] = "1"
        spec = {
            "name": ctx.generated_name,
            "argv": argv,
            "env": env,
            "work_dir": self.config.work_dir,
            "python_path": list(self.config.python_path),
            "log_uri": local_path(ctx.storage.join(paths.output_prefix, LOG_FILE)),
            "log_upload_seconds": self.config.log_upload_interval_seconds,
            # Not in the warm worker's own process: its cached filesystems would keep these credentials, and a
            # flytekit @dynamic run there before would answer with its first call's graph.
            "own_process": credentials is not None or DYNAMIC_MARKER in env,
        }
        return spec, ray_options(ctx, container, self.config)

    # -- observing ----------------------------------------------------------------------------------------

    def _links(self, ctx: TaskExecutionContext) -> list[execution_pb2.TaskLog]:
        return [execution_pb2.TaskLog(uri=ctx.storage.join(ctx.paths.output_prefix, LOG_FILE), name="Ray task log")]

    async def _transition(self, ctx: TaskExecutionContext, state: State) -> Transition:
        status = state.get("status")
        info: dict[str, Any] = {"ray_task": ctx.generated_name}
        for key in ("node", "worker_attempts"):
            if state.get(key):
                info[key] = state[key]
        common: dict[str, Any] = {"logs": self._links(ctx), "custom_info": info, "state": SUBMITTED}
        if status == "running":
            return Transition(Phase.RUNNING, reason="running as a Ray task", **common)
        if status == "succeeded":
            return Transition(Phase.SUCCESS, reason="the Ray task succeeded", **common)
        document = await self._error_document(ctx)
        if document is not None:
            error = document.error
            retryable = error.kind == errors_pb2.ContainerError.RECOVERABLE
            system = error.origin == execution_pb2.ExecutionError.SYSTEM
            return Transition.failure(error.code, error.message, retryable=retryable, system=system, **common)
        if status == "cancelled":
            return Transition.failure("RayTaskCancelled", "the Ray task was cancelled", retryable=True, system=True,
                                      **common)  # fmt: skip
        tail = await self._log_tail(ctx)
        why = state.get("error") or f"exit status {state.get('exit_code')}"
        message = f"Ray task {ctx.generated_name} failed: {why}\n{tail}".rstrip()
        return Transition.failure("RayTaskFailed", message, retryable=True, system=True, **common)

    async def _lost(self, ctx: TaskExecutionContext) -> Transition:
        """A submitted attempt the dispatcher no longer knows: done if it left its documents, else lost."""
        common: dict[str, Any] = {"logs": self._links(ctx), "state": SUBMITTED}
        if await ctx.storage.exists(ctx.paths.outputs) or await ctx.storage.exists(ctx.paths.error):
            return Transition(Phase.SUCCESS, reason="the Ray task had ended", **common)
        message = f"the Ray dispatcher no longer knows attempt {ctx.generated_name} (the cluster restarted?)"
        return Transition.failure("RayTaskLost", message, retryable=True, system=True, **common)

    async def _error_document(self, ctx: TaskExecutionContext) -> errors_pb2.ErrorDocument | None:
        try:
            return await ctx.storage.read_proto(ctx.paths.error, errors_pb2.ErrorDocument)
        except NotFound:
            return None

    async def _log_tail(self, ctx: TaskExecutionContext) -> str:
        with contextlib.suppress(NotFound):
            text = await ctx.storage.read(ctx.storage.join(ctx.paths.output_prefix, LOG_FILE))
            return text[-self.config.error_tail_bytes :].decode(errors="replace")
        return ""


def ray_options(ctx: TaskExecutionContext, container: tasks_pb2.Container, config: RayTasksConfig) -> dict[str, Any]:
    """The Ray task's resource request: the attempt's requests (else limits) of cpu, memory and gpu."""
    resources = ctx.resources if ctx.resources is not None else container.resources
    wanted: dict[int, str] = {entry.name: entry.value for entry in resources.limits if entry.value}
    wanted.update({entry.name: entry.value for entry in resources.requests if entry.value})
    options: dict[str, Any] = {"num_cpus": config.default_num_cpus}
    if tasks_pb2.Resources.CPU in wanted:
        options["num_cpus"] = float(quantity(wanted[tasks_pb2.Resources.CPU]))
    if tasks_pb2.Resources.MEMORY in wanted:
        options["memory"] = whole_units(wanted[tasks_pb2.Resources.MEMORY])
    if tasks_pb2.Resources.GPU in wanted:
        options["num_gpus"] = float(quantity(wanted[tasks_pb2.Resources.GPU]))
    if config.resources:
        options["resources"] = dict(config.resources)
    return options


def create(config: Mapping[str, Any]) -> RayTasksPlugin:
    """The factory the registry calls with `plugins.backends.ray-tasks` (a `RayTasksConfig`)."""
    return RayTasksPlugin(RayTasksConfig.model_validate(dict(config)))
