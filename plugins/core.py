"""The one plugin interface every task backend implements, and the values that cross it.

Propeller calls `handle` every time it evaluates a running task node. `handle` must be idempotent
and must not block: it starts work once, under a name derived deterministically from the task
execution id, and afterwards only reports progress. A restarted propeller calls it again with the
plugin state persisted from the last accepted transition, and the plugin must find its work again.
Plugins never import propeller: everything they need arrives in the `TaskExecutionContext`.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, runtime_checkable

from prometheus_client import CollectorRegistry

from flyteidl_py.core import execution_pb2, identifier_pb2, literals_pb2, security_pb2, tasks_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import NotFound
from flyteplane.storage import Storage
from flyteplane.storage.task_credentials import TaskCredentials

JsonValue: TypeAlias = "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
"""What a google.protobuf.Struct holds (custom info in task events, a backend's settings)."""


class Phase(enum.IntEnum):
    """A plugin's view of its task; propeller maps it onto task and node phases."""

    NOT_READY = 0  # waiting for something outside the task (e.g. resource tokens); no event
    WAITING_FOR_RESOURCES = 1
    QUEUED = 2
    INITIALIZING = 3
    RUNNING = 4
    SUCCESS = 5
    RETRYABLE_FAILURE = 6
    PERMANENT_FAILURE = 7

    @property
    def is_terminal(self) -> bool:
        return self in (Phase.SUCCESS, Phase.RETRYABLE_FAILURE, Phase.PERMANENT_FAILURE)

    @property
    def is_failure(self) -> bool:
        return self in (Phase.RETRYABLE_FAILURE, Phase.PERMANENT_FAILURE)


class BadTaskDefinition(ValueError):
    """The task cannot run on this backend as defined (no container to run, an unusable template variable, a
    malformed resource quantity, ...): a permanent failure of the task, not of the platform."""

    def transition(self) -> Transition:
        """The failure a plugin reports for it: permanent, the user's."""
        return Transition.failure("BadTaskDefinition", str(self), retryable=False, system=False)


class SecretNotFound(BadTaskDefinition):
    """A secret the task requests is not in the plane's secrets store: the user's to fix, before the task starts."""

    def transition(self) -> Transition:
        return Transition.failure("SecretNotFound", str(self), retryable=False, system=False)


class SecretUnavailable(BadTaskDefinition):
    """A secret the task requests is stored but cannot be opened (sealed under another key): the platform's to fix."""

    def transition(self) -> Transition:
        return Transition.failure("SecretUnavailable", str(self), retryable=False, system=True)


@dataclass(frozen=True)
class SecretValue:
    """One secret a task requested (flyteidl core.Secret) and its value; the value never appears in a repr."""

    request: security_pb2.Secret
    value: bytes = field(repr=False)


def requested_secrets(template: tasks_pb2.TaskTemplate) -> list[security_pb2.Secret]:
    """The secrets a task template requests (`@task(secret_requests=...)`)."""
    return list(template.security_context.secrets) if template.HasField("security_context") else []


@dataclass(frozen=True)
class Transition:
    """What one `handle` call decided. `state` is persisted only when propeller accepts the transition."""

    phase: Phase
    version: int = 0
    reason: str = ""
    logs: Sequence[execution_pb2.TaskLog] = ()
    # The attempt's pods and containers (Kubernetes backends), so admin can read their logs from the pod log API.
    log_context: execution_pb2.LogContext | None = None
    custom_info: Mapping[str, JsonValue] | None = None
    external_resources: Sequence[event_pb2.ExternalResourceInfo] = ()
    error: execution_pb2.ExecutionError | None = None
    state: bytes = b""
    # Where the task's own data landed, when it is not `<output_prefix>/outputs.pb` (rarely needed).
    deck_uri: str = ""
    # The plugin calls the context's `wake` when this attempt moves on (an attempt queued in-process, say): asking
    # again before then would find it unchanged, so a caller that polls its attempts may skip this one until woken.
    wakes: bool = False

    @staticmethod
    def failure(
        code: str,
        message: str,
        *,
        retryable: bool,
        system: bool = False,
        state: bytes = b"",
        version: int = 0,
        logs: Sequence[execution_pb2.TaskLog] = (),
        custom_info: Mapping[str, JsonValue] | None = None,
        external_resources: Sequence[event_pb2.ExternalResourceInfo] = (),
        deck_uri: str = "",
    ) -> Transition:
        kind = execution_pb2.ExecutionError.SYSTEM if system else execution_pb2.ExecutionError.USER
        error = execution_pb2.ExecutionError(code=code, message=message, kind=kind)
        phase = Phase.RETRYABLE_FAILURE if retryable else Phase.PERMANENT_FAILURE
        return Transition(
            phase,
            version=version,
            reason=message,
            logs=logs,
            custom_info=custom_info,
            external_resources=external_resources,
            error=error,
            state=state,
            deck_uri=deck_uri,
        )


class _OutputFile:
    """A file the task writes in its attempt's output prefix, read as an attribute of `DataPaths` (`paths.error`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, paths: DataPaths, owner: type[DataPaths] | None = None) -> str:
        return f"{paths.output_prefix.rstrip('/')}/{self.name}"


@dataclass(frozen=True)
class DataPaths:
    """Where a task attempt reads and writes (Flyte's layout; see semantics §3.13)."""

    inputs: str  # <node dir>/inputs.pb, a LiteralMap
    output_prefix: str  # <node dir>/<attempt>: outputs.pb, error.pb, futures.pb, deck.html
    raw_output_prefix: str  # where FlyteFile / dataframe bytes go
    checkpoint_prefix: str
    previous_checkpoint_prefix: str  # "" on the first attempt

    outputs = _OutputFile("outputs.pb")
    error = _OutputFile("error.pb")
    futures = _OutputFile("futures.pb")
    deck = _OutputFile("deck.html")


@dataclass(frozen=True)
class TaskExecutionContext:
    """Everything a plugin may use for one attempt of one task node."""

    task_execution_id: identifier_pb2.TaskExecutionIdentifier
    template: tasks_pb2.TaskTemplate
    paths: DataPaths
    storage: Storage
    plugin_state: bytes = b""  # from the last accepted transition ("" the first time)
    environment: Mapping[str, str] = field(default_factory=dict)  # execution envs (ExecutionSpec.envs)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    interruptible: bool = False
    max_attempts: int = 1
    security_context: security_pb2.SecurityContext | None = None
    resources: tasks_pb2.Resources | None = None  # after platform defaults and overrides
    # For array-node sub-tasks: the element index (FLYTE_K8S_ARRAY_INDEX) the attempt computes.
    array_index: int | None = None
    # For array-node sub-tasks: the array's inputs (`paths.inputs`, which the task reads as on Flyte) narrowed to
    # this element -- each collection the array splits holds only element `array_index`, at position 0 -- or
    # None when they cannot be (an offloaded collection). A backend that hands a task these instead spares it
    # decoding every element of the array's inputs to pick one; the task must then pick position 0.
    narrowed_inputs_reader: Callable[[], Awaitable[literals_pb2.LiteralMap | None]] | None = None
    backend_config: Mapping[str, JsonValue] = field(default_factory=dict)
    # The workflow and launch plan the execution runs (FLYTE_INTERNAL_EXECUTION_WORKFLOW / _LAUNCHPLAN);
    # None for single-task executions.
    workflow_id: identifier_pb2.Identifier | None = None
    launch_plan_id: identifier_pb2.Identifier | None = None
    # The code bundle `{{ .remote_package_path }}` stands for. `pyflyte register` resolves that variable
    # itself; only packages made with `pyflyte package --copy all` and never registered leave it in.
    remote_package_path: str = ""
    # How a task process calls back into the plane it runs on (FLYTE_PLATFORM_URL, FLYTE_PLATFORM_INSECURE):
    # flytekit's eager workflows and FlyteRemote inside a task read them. Below the task's own variables.
    platform_environment: Mapping[str, str] = field(default_factory=dict)
    # The W3C traceparent of the attempt's span (tracing on only): the task's TRACEPARENT, per attempt.
    trace_parent: str = ""
    # Call to have propeller re-evaluate this workflow soon (e.g. when a child process exits).
    wake: Callable[[], None] = lambda: None
    # The engine's reader of `paths.inputs` and writer of `paths.outputs` (see `read_inputs`/`write_outputs`).
    inputs_reader: Callable[[], Awaitable[literals_pb2.LiteralMap]] | None = None
    outputs_writer: Callable[[literals_pb2.LiteralMap], Awaitable[None]] | None = None
    # The engine's resolver of requested secrets from the plane's secrets store (see `read_secrets`).
    secrets_reader: Callable[[Sequence[security_pb2.Secret]], Awaitable[Sequence[SecretValue]]] | None = None
    # The engine's source of the token a task process calls admin with when auth is on (see `read_task_token`).
    task_token_reader: Callable[[], Awaitable[str]] | None = None
    # The engine's source of the attempt's own S3 credentials when the store hands tasks scoped ones (see
    # `read_storage_credentials`); None: tasks use the store's credentials (`storage.s3.task_credentials.mode`).
    storage_credentials_reader: Callable[[], Awaitable[TaskCredentials]] | None = None

    async def read_inputs(self) -> literals_pb2.LiteralMap:
        """The attempt's inputs (an empty map when it has none). Through the engine when it provides a
        reader: it usually still holds what it just wrote, so no store read is needed."""
        try:
            if self.inputs_reader is not None:
                return await self.inputs_reader()
            return await self.storage.read_proto(self.paths.inputs, literals_pb2.LiteralMap)
        except NotFound:
            return literals_pb2.LiteralMap()

    async def write_outputs(self, outputs: literals_pb2.LiteralMap) -> None:
        """Writes the attempt's outputs.pb; through the engine when it provides a writer, so that the
        nodes downstream get them without reading them back. The engine may put the file in the store
        only at the end of its round, before it records or reports anything: a plugin that needs the
        file in the store at once (to hand it to a process, say) writes it with `storage` instead."""
        if self.outputs_writer is not None:
            await self.outputs_writer(outputs)
        else:
            await self.storage.write_proto(self.paths.outputs, outputs)

    async def read_secrets(self) -> Sequence[SecretValue]:
        """The values of the secrets the task requests, read when the plugin starts the attempt (never kept in
        plugin state). SecretNotFound, naming every missing one, when the store lacks any of them."""
        requests = requested_secrets(self.template)
        if not requests:
            return ()
        if self.secrets_reader is None:
            raise SecretNotFound("the task requests secrets and this engine has no secrets store")
        return await self.secrets_reader(requests)

    async def read_task_token(self) -> str:
        """The access token the task process calls admin with (its execution's principal); "" when admin needs
        none. Read when the plugin starts the attempt, never kept in plugin state."""
        return await self.task_token_reader() if self.task_token_reader is not None else ""

    @property
    def scoped_storage_credentials(self) -> bool:
        """Whether the task must get `read_storage_credentials()` rather than the store's own credentials."""
        return self.storage_credentials_reader is not None

    async def read_storage_credentials(self) -> TaskCredentials | None:
        """The attempt's short-lived S3 credentials, scoped to its data; None when tasks get the store's own.
        CredentialsUnavailable (retryable) when they cannot be had. Read when the plugin starts the attempt,
        never kept in plugin state."""
        return await self.storage_credentials_reader() if self.storage_credentials_reader is not None else None

    @property
    def attempt(self) -> int:
        return self.task_execution_id.retry_attempt

    @functools.cached_property
    def generated_name(self) -> str:
        """A deterministic, DNS-safe name for this attempt's external work (pods, jobs, processes)."""
        ident = self.task_execution_id
        e = ident.node_execution_id.execution_id
        key = f"{e.project}/{e.domain}/{e.name}/{ident.node_execution_id.node_id}/{ident.retry_attempt}"
        suffix = "" if self.array_index is None else f"-{self.array_index}"
        return f"{e.name[:20]}-{hashlib.sha256(key.encode()).hexdigest()[:16]}{suffix}".lower()


@runtime_checkable
class Plugin(Protocol):
    """A task backend. One instance serves every task of its types; per-task state lives in the context."""

    id: str
    task_types: tuple[str, ...]

    async def handle(self, ctx: TaskExecutionContext) -> Transition: ...

    async def abort(self, ctx: TaskExecutionContext) -> None: ...

    async def finalize(self, ctx: TaskExecutionContext) -> None: ...


@runtime_checkable
class ReadsInputsInMemory(Protocol):
    """A plugin capability: with `inputs_in_memory` true, the plugin reads its inputs only through
    `TaskExecutionContext.read_inputs`, so the engine may write inputs.pb with the rest of its round's
    objects instead of before calling the plugin (echo does; a plugin that starts a process must not)."""

    inputs_in_memory: bool


def reads_inputs_in_memory(plugin: Plugin) -> bool:
    """Whether `plugin` declares the ReadsInputsInMemory capability."""
    return isinstance(plugin, ReadsInputsInMemory) and plugin.inputs_in_memory


@runtime_checkable
class ReportsMetrics(Protocol):
    """A plugin capability: Prometheus instruments of its own, registered once in the engine's registry
    (so they are scraped wherever the engine's are) when the engine has metrics."""

    def register_metrics(self, registry: CollectorRegistry) -> None: ...


PluginFactory = Callable[[Mapping[str, JsonValue]], Awaitable[Plugin] | Plugin]
