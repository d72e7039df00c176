"""The `agent` backend: task types served by Flyte agents (flytekit's `pyflyte serve agent`, or any server of
flyteidl's AsyncAgentService / SyncAgentService / AgentMetadataService) over gRPC, as Flyte v1's agent plugin does.

Which agent serves a task: the agent that says it serves the task's category (type and version) in its
`ListAgents` answer (asked at start-up and every `discovery_interval_seconds`), else the agent a
`task_types` entry names, else the `default_agent`. An async agent gets `CreateTask` once per attempt; its
`resource_meta` is persisted in the plugin state and, before `handle` returns, beside the attempt's outputs
(`agent-resource.json`), so a restarted engine polls the remote task it created instead of creating a second
one. `GetTask` is then asked on every round, and a timer wakes the engine with a growing interval (from
`poll_interval_seconds` to `max_poll_interval_seconds`, reset when the resource changes) until the phase is
terminal. A sync agent is called once with `ExecuteTaskSync`. `DeleteTask` is sent on abort, and on finalize
of a task the agent had not finished.

Outputs: `resource.outputs` when the agent returns them (written to outputs.pb), else whatever the agent wrote
under the output prefix itself. The resource's log links, custom info and message become the task events'
logs, custom info and reason. Errors: an agent that is unreachable, UNAVAILABLE or past its deadline is waited
for (the task keeps its phase) for `unavailable_grace_seconds`, then the attempt fails as a retryable system
failure; a FAILED resource is the user's permanent failure with the agent's message (or what its
`agent_error` says); the task's timeout is the engine's, which aborts (and so deletes) the remote task.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import grpc
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field

from flyteidl_py.admin import agent_pb2
from flyteidl_py.core import execution_pb2, literals_pb2, tasks_pb2
from flyteidl_py.service import agent_pb2_grpc
from flyteplane import tracing
from flyteplane.errors import NotFound
from plugins.common.background import cancel_and_wait
from plugins.common.command import local_path, render_for_attempt
from plugins.core import BadTaskDefinition, JsonValue, Phase, TaskExecutionContext, Transition

log = logging.getLogger(__name__)

DEFAULT_AGENT = "default"
RESOURCE_FILE = "agent-resource.json"
# Codes after which the agent may come back: waited for, then a retryable system failure.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# gRPC waits up to 2 minutes between reconnections to a server that went away; an agent restarted by its
# supervisor is back in seconds, and its tasks should not wait for the channel.
CHANNEL_OPTIONS = (("grpc.initial_reconnect_backoff_ms", 500), ("grpc.max_reconnect_backoff_ms", 5000))


class AgentEndpoint(BaseModel):
    """One agent deployment (Flyte's `Deployment`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = Field(description="host:port of the agent's gRPC server.")
    insecure: bool = Field(default=True, description="Plain-text gRPC; false: TLS with the system's roots.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Deadline of each call to this agent.")
    timeouts: dict[str, float] = Field(
        default_factory=dict,
        description="Per method (CreateTask, GetTask, DeleteTask, ExecuteTaskSync, ListAgents): its deadline.",
    )

    def timeout(self, method: str) -> float:
        return self.timeouts.get(method, self.timeout_seconds)


class AgentPluginConfig(BaseModel):
    """`plugins.backends.agent` (Flyte's `plugins.agent-service`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_agent: AgentEndpoint | None = Field(
        default=None, description="Serves every task type no agent claims and `task_types` does not name."
    )
    agents: dict[str, AgentEndpoint] = Field(default_factory=dict, description="Named agents.")
    task_types: dict[str, str] = Field(
        default_factory=dict,
        description='Task type -> the name of the agent that serves it ("default": the default agent), '
        "for agents that are not asked (or do not say) what they serve.",
    )
    discover: bool = Field(default=True, description="Ask each agent which task types it serves (ListAgents).")
    discovery_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long start-up waits for the agents to answer ListAgents; 0: not at all (they are asked "
        "every second until they answer, and their task types are served from then on).",
    )
    discovery_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the agents are asked again (agents added or restarted)."
    )
    poll_interval_seconds: float = Field(default=0.5, gt=0, description="The first wait between GetTask calls.")
    max_poll_interval_seconds: float = Field(default=10.0, gt=0, description="The longest wait between them.")
    unavailable_grace_seconds: float = Field(
        default=300.0, ge=0, description="How long an unreachable agent is waited for before the attempt fails."
    )

    def endpoint(self, name: str) -> AgentEndpoint | None:
        return self.default_agent if name == DEFAULT_AGENT else self.agents.get(name)

    def named(self) -> dict[str, AgentEndpoint]:
        """Every agent by name, the default one as `default`."""
        found = dict(self.agents)
        if self.default_agent is not None:
            found[DEFAULT_AGENT] = self.default_agent
        return found


@dataclass(frozen=True)
class Served:
    """Which agent serves a task category, and how (Flyte's registry entry)."""

    agent: str
    is_sync: bool


@dataclass
class _AttemptState:
    """What the plugin persists per attempt (JSON in the plugin state and in RESOURCE_FILE)."""

    agent: str
    category: tuple[str, int]
    resource_meta: bytes
    phase: int = int(Phase.QUEUED)
    version: int = 0
    fingerprint: str = ""
    unavailable_since: float | None = None
    created: bool = True  # false while CreateTask waits for an unreachable agent

    def encode(self) -> bytes:
        return json.dumps(
            {
                "agent": self.agent,
                "category": list(self.category),
                "resource_meta": base64.b64encode(self.resource_meta).decode(),
                "phase": self.phase,
                "version": self.version,
                "fingerprint": self.fingerprint,
                "unavailable_since": self.unavailable_since,
                "created": self.created,
            }
        ).encode()

    @staticmethod
    def decode(data: bytes) -> _AttemptState | None:
        try:
            value = json.loads(data)
            name, version = value["category"]
            return _AttemptState(
                agent=str(value["agent"]),
                category=(str(name), int(version)),
                resource_meta=base64.b64decode(value["resource_meta"]),
                phase=int(value.get("phase", Phase.QUEUED)),
                version=int(value.get("version", 0)),
                fingerprint=str(value.get("fingerprint", "")),
                unavailable_since=value.get("unavailable_since"),
                created=bool(value.get("created", True)),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None


class AgentPlugin:
    """Serves task types through Flyte agents over gRPC; see the module docstring."""

    id = "agent"

    def __init__(self, config: AgentPluginConfig | None = None) -> None:
        self.config = config or AgentPluginConfig()
        self._channels: dict[tuple[str, bool], grpc.aio.Channel] = {}  # by (endpoint, insecure)
        self._discovered: dict[tuple[str, int], Served] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._intervals: dict[str, float] = {}
        self._watcher: asyncio.Task[None] | None = None
        self.task_types: tuple[str, ...] = tuple(self.config.task_types)

    # -- discovery ----------------------------------------------------------------------------------------

    async def discover(self, *, wait_seconds: float = 0.0) -> bool:
        """Asks every agent which task categories it serves (ListAgents); an agent that does not answer within
        `wait_seconds` (it may still be starting) keeps what it said last time. True when every agent answered."""
        found: dict[tuple[str, int], Served] = {}
        answered = True
        for name, agent in self.config.named().items():
            try:
                answer = await self._metadata(agent).ListAgents(
                    agent_pb2.ListAgentsRequest(),
                    timeout=max(wait_seconds, agent.timeout("ListAgents")),
                    wait_for_ready=wait_seconds > 0,
                )
            except grpc.aio.AioRpcError as exc:
                answered = False
                log.log(
                    logging.WARNING if wait_seconds > 0 else logging.DEBUG,
                    "agent %s (%s) did not list its task types: %s",
                    name,
                    agent.endpoint,
                    exc.details(),
                )
                found.update({key: served for key, served in self._discovered.items() if served.agent == name})
                continue
            for described in answer.agents:
                categories = [(c.name, c.version) for c in described.supported_task_categories]
                categories += [(task_type, 0) for task_type in described.supported_task_types]
                for category in categories:
                    # A named agent wins over the default one for a category both serve.
                    if category not in found or found[category].agent == DEFAULT_AGENT:
                        found[category] = Served(name, described.is_sync)
        self._discovered = found
        self.task_types = tuple(dict.fromkeys([*self.config.task_types, *(name for name, _ in found)]))
        return answered

    def start_watching(self, *, answered: bool) -> None:
        """Asks the agents again every `discovery_interval_seconds` (Flyte's watchAgents), and every second
        while one has never answered (an agent server still starting)."""

        async def watch(answered: bool) -> None:
            while True:
                await asyncio.sleep(self.config.discovery_interval_seconds if answered else 1.0)
                answered = await self.discover() or answered

        if self._watcher is None and self.config.discover and self.config.named():
            self._watcher = asyncio.create_task(watch(answered), name="agent-discovery")

    def serving(self, category: tuple[str, int]) -> Served | None:
        """The agent that serves a task category: discovered, else configured by type, else the default."""
        served = self._discovered.get(category)
        if served is not None:
            return served
        named = self.config.task_types.get(category[0])
        if named is not None and self.config.endpoint(named) is not None:
            return Served(named, False)
        return Served(DEFAULT_AGENT, False) if self.config.default_agent is not None else None

    # -- channels -----------------------------------------------------------------------------------------

    def _channel(self, agent: AgentEndpoint) -> grpc.aio.Channel:
        key = (agent.endpoint, agent.insecure)
        channel = self._channels.get(key)
        if channel is None:
            interceptors = tracing.propagating()
            if agent.insecure:
                channel = grpc.aio.insecure_channel(agent.endpoint, options=CHANNEL_OPTIONS, interceptors=interceptors)
            else:
                credentials = grpc.ssl_channel_credentials()
                channel = grpc.aio.secure_channel(
                    agent.endpoint, credentials, options=CHANNEL_OPTIONS, interceptors=interceptors
                )
            self._channels[key] = channel
        return channel

    def _metadata(self, agent: AgentEndpoint) -> agent_pb2_grpc.AgentMetadataServiceAsyncStub:
        return agent_pb2_grpc.AgentMetadataServiceStub(self._channel(agent))

    def _async(self, agent: AgentEndpoint) -> agent_pb2_grpc.AsyncAgentServiceAsyncStub:
        return agent_pb2_grpc.AsyncAgentServiceStub(self._channel(agent))

    def _sync(self, agent: AgentEndpoint) -> agent_pb2_grpc.SyncAgentServiceAsyncStub:
        return agent_pb2_grpc.SyncAgentServiceStub(self._channel(agent))

    # -- the plugin interface -----------------------------------------------------------------------------

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        state = await self._state(ctx)
        if state is None or not state.created:
            return await self._create(ctx, None if state is None else state.unavailable_since)
        return await self._get(ctx, state)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        self._stop_timer(ctx.generated_name)
        state = await self._state(ctx)
        if state is not None and state.created:
            await self._delete(state)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        self._stop_timer(ctx.generated_name)
        self._intervals.pop(ctx.generated_name, None)
        state = _AttemptState.decode(ctx.plugin_state) if ctx.plugin_state else None
        if state is not None and not Phase(state.phase).is_terminal:
            await self._delete(state)

    async def aclose(self) -> None:
        timers = [*self._timers.values(), *([self._watcher] if self._watcher is not None else [])]
        self._timers.clear()
        self._watcher = None
        await cancel_and_wait(timers)
        channels = list(self._channels.values())
        self._channels.clear()
        for channel in channels:
            await channel.close()

    # -- creating -----------------------------------------------------------------------------------------

    async def _create(self, ctx: TaskExecutionContext, unavailable_since: float | None) -> Transition:
        category = (ctx.template.type, ctx.template.task_type_version)
        served = self.serving(category)
        agent = None if served is None else self.config.endpoint(served.agent)
        if served is None or agent is None:
            message = (
                f"no agent serves task type {category[0]!r} (version {category[1]}): configure "
                "plugins.backends.agent.default_agent, or an agent that lists it"
            )
            return Transition.failure("AgentNotFound", message, retryable=False, system=True)
        try:
            template = await self._rendered(ctx)
        except BadTaskDefinition as exc:
            return exc.transition()
        inputs = await ctx.read_inputs()
        metadata = task_execution_metadata(ctx)
        if served.is_sync:
            return await self._execute_sync(ctx, served.agent, agent, template, inputs, metadata, unavailable_since)
        request = agent_pb2.CreateTaskRequest(
            inputs=inputs, template=template, output_prefix=_agent_prefix(ctx), task_execution_metadata=metadata
        )
        try:
            response = await self._async(agent).CreateTask(request, timeout=agent.timeout("CreateTask"))
        except grpc.aio.AioRpcError as exc:
            if exc.code() in TRANSIENT:
                # Nothing is created yet, so the next round asks again; the attempt gives up after the grace.
                return self._waiting(ctx, exc, served.agent, category, unavailable_since)
            return _refused("CreateTask", served.agent, exc)
        state = _AttemptState(served.agent, category, response.resource_meta)
        # Beside the outputs too: an engine that stops before it persists this transition finds it there.
        await ctx.storage.write(ctx.storage.join(ctx.paths.output_prefix, RESOURCE_FILE), state.encode())
        self._schedule(ctx, changed=True)
        return Transition(Phase.QUEUED, reason=f"created on agent {served.agent}", state=state.encode())

    async def _state(self, ctx: TaskExecutionContext) -> _AttemptState | None:
        """The attempt's state: the persisted one, unless it does not know of a creation the store records
        (an engine that stopped between CreateTask and persisting its answer)."""
        state = _AttemptState.decode(ctx.plugin_state) if ctx.plugin_state else None
        if state is None or not state.created:
            return await self._recorded(ctx) or state
        return state

    async def _recorded(self, ctx: TaskExecutionContext) -> _AttemptState | None:
        try:
            data = await ctx.storage.read(ctx.storage.join(ctx.paths.output_prefix, RESOURCE_FILE))
        except NotFound:
            return None
        return _AttemptState.decode(data)

    async def _rendered(self, ctx: TaskExecutionContext) -> tasks_pb2.TaskTemplate:
        """The template with its container's arguments rendered for this attempt, as Flyte hands it to agents."""
        template = tasks_pb2.TaskTemplate()
        template.CopyFrom(ctx.template)
        if template.HasField("container") and template.container.args:
            namespace = f"{ctx.task_execution_id.node_execution_id.execution_id.project}-" + (
                ctx.task_execution_id.node_execution_id.execution_id.domain
            )
            rendered = await render_for_attempt(ctx, list(template.container.args), namespace=namespace)
            del template.container.args[:]
            template.container.args.extend(rendered)
        return template

    async def _execute_sync(
        self,
        ctx: TaskExecutionContext,
        name: str,
        agent: AgentEndpoint,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
        metadata: agent_pb2.TaskExecutionMetadata,
        unavailable_since: float | None,
    ) -> Transition:
        header = agent_pb2.CreateRequestHeader(
            template=template, output_prefix=_agent_prefix(ctx), task_execution_metadata=metadata
        )
        requests = [agent_pb2.ExecuteTaskSyncRequest(header=header), agent_pb2.ExecuteTaskSyncRequest(inputs=inputs)]
        try:
            call = self._sync(agent).ExecuteTaskSync(iter(requests), timeout=agent.timeout("ExecuteTaskSync"))
            responses = [response async for response in call]
        except grpc.aio.AioRpcError as exc:
            if exc.code() in TRANSIENT:
                category = (template.type, template.task_type_version)
                return self._waiting(ctx, exc, name, category, unavailable_since)
            return _refused("ExecuteTaskSync", name, exc)
        headers = [r for r in responses if r.HasField("header")]
        if not headers:
            message = f"agent {name} answered ExecuteTaskSync without a header"
            return Transition.failure("AgentBadResponse", message, retryable=True, system=True)
        resource = agent_pb2.Resource()
        resource.CopyFrom(headers[0].header.resource)
        for response in responses:  # outputs streamed after the header, when the agent streams them
            if response.HasField("outputs"):
                resource.outputs.MergeFrom(response.outputs)
        state = _AttemptState(name, (template.type, template.task_type_version), b"")
        return await self._transition(ctx, state, resource)

    # -- observing ----------------------------------------------------------------------------------------

    async def _get(self, ctx: TaskExecutionContext, state: _AttemptState) -> Transition:
        agent = self.config.endpoint(state.agent)
        if agent is None:
            message = f"agent {state.agent!r}, which runs this task, is no longer configured"
            return Transition.failure("AgentNotFound", message, retryable=True, system=True)
        request = agent_pb2.GetTaskRequest(
            task_type=state.category[0],
            resource_meta=state.resource_meta,
            task_category=agent_pb2.TaskCategory(name=state.category[0], version=state.category[1]),
            output_prefix=_agent_prefix(ctx),
        )
        try:
            response = await self._async(agent).GetTask(request, timeout=agent.timeout("GetTask"))
        except grpc.aio.AioRpcError as exc:
            if exc.code() in TRANSIENT:
                since = state.unavailable_since if state.unavailable_since is not None else time.time()
                state.unavailable_since = since
                return self._unreachable(ctx, exc, since=since, phase=Phase(state.phase), state=state.encode())
            message = f"agent {state.agent} answered GetTask with {exc.code().name}: {exc.details()}"
            return Transition.failure("AgentGetTaskFailed", message, retryable=True, system=True)
        state.unavailable_since = None
        return await self._transition(ctx, state, response.resource)

    async def _transition(
        self, ctx: TaskExecutionContext, state: _AttemptState, resource: agent_pb2.Resource
    ) -> Transition:
        """The transition a resource's phase (or its deprecated state) means; outputs written on success."""
        logs = list(resource.log_links)
        info = _custom_info(resource)
        fingerprint = json.dumps(
            [resource.phase, resource.state, resource.message, [str(log) for log in logs], info], sort_keys=True
        )
        phase = _phase(resource)
        changed = fingerprint != state.fingerprint
        if phase == state.phase and changed and state.fingerprint:
            state.version += 1  # same phase, news to report (a log link, a message): a new event
        elif phase != state.phase:
            state.version = 0
        state.phase, state.fingerprint = int(phase), fingerprint
        common: dict[str, Any] = {"logs": logs, "custom_info": info, "version": state.version}
        if phase is Phase.SUCCESS:
            self._stop_timer(ctx.generated_name)
            if resource.HasField("outputs") and ctx.template.interface.outputs.variables:
                await ctx.write_outputs(resource.outputs)
            return Transition(Phase.SUCCESS, reason=resource.message, state=state.encode(), **common)
        if phase.is_failure:
            self._stop_timer(ctx.generated_name)
            return _failure(resource, phase, state.encode(), common)
        self._schedule(ctx, changed=changed)
        return Transition(phase, reason=resource.message, state=state.encode(), **common)

    def _waiting(
        self,
        ctx: TaskExecutionContext,
        exc: grpc.aio.AioRpcError,
        agent: str,
        category: tuple[str, int],
        since: float | None,
    ) -> Transition:
        """An agent unreachable before the task was created there: waited for, from `since` on."""
        state = _AttemptState(agent, category, b"", unavailable_since=since or time.time(), created=False)
        assert state.unavailable_since is not None
        return self._unreachable(ctx, exc, since=state.unavailable_since, phase=Phase.QUEUED, state=state.encode())

    def _unreachable(
        self, ctx: TaskExecutionContext, exc: grpc.aio.AioRpcError, *, since: float, phase: Phase, state: bytes
    ) -> Transition:
        message = f"the agent is unreachable ({exc.code().name}): {exc.details()}"
        if time.time() - since > self.config.unavailable_grace_seconds:
            self._stop_timer(ctx.generated_name)
            return Transition.failure("AgentUnavailable", message, retryable=True, system=True, state=state)
        self._schedule(ctx, changed=False)
        return Transition(phase, reason=message, state=state)

    async def _delete(self, state: _AttemptState) -> None:
        agent = self.config.endpoint(state.agent)
        if agent is None or not state.resource_meta:
            return
        request = agent_pb2.DeleteTaskRequest(
            task_type=state.category[0],
            resource_meta=state.resource_meta,
            task_category=agent_pb2.TaskCategory(name=state.category[0], version=state.category[1]),
        )
        try:
            await self._async(agent).DeleteTask(request, timeout=agent.timeout("DeleteTask"))
        except grpc.aio.AioRpcError as exc:
            # The remote task may be gone already; an unreachable agent cannot be told, which is all we can say.
            log.warning("agent %s: DeleteTask answered %s: %s", state.agent, exc.code().name, exc.details())

    # -- polling with backoff -----------------------------------------------------------------------------

    def _schedule(self, ctx: TaskExecutionContext, *, changed: bool) -> None:
        """Wakes the engine after the attempt's current interval, which doubles while nothing changes."""
        name = ctx.generated_name
        previous = self._intervals.get(name)
        if changed or previous is None:
            interval = self.config.poll_interval_seconds
        else:
            interval = min(previous * 2, self.config.max_poll_interval_seconds)
        self._intervals[name] = interval
        self._stop_timer(name)
        wake = ctx.wake

        async def later() -> None:
            await asyncio.sleep(interval)
            self._timers.pop(name, None)
            wake()

        self._timers[name] = asyncio.create_task(later(), name=f"agent-poll-{name}")

    def _stop_timer(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None and asyncio.current_task() is not timer:
            timer.cancel()


def _agent_prefix(ctx: TaskExecutionContext) -> str:
    """The output prefix an agent is given: on a local store the plain path, as a local task process gets it.

    flytekit in the agent writes blobs under it (the SageMaker agents pickle a dict they cannot encode) and
    names them by it; flytekit in the task that reads such a blob opens a `file://` name as a path and fails.
    """
    return local_path(ctx.paths.output_prefix)


def task_execution_metadata(ctx: TaskExecutionContext) -> agent_pb2.TaskExecutionMetadata:
    """What an agent learns of the attempt (Flyte's buildTaskExecutionMetadata)."""
    execution = ctx.task_execution_id.node_execution_id.execution_id
    metadata = agent_pb2.TaskExecutionMetadata(
        task_execution_id=ctx.task_execution_id,
        namespace=f"{execution.project}-{execution.domain}",
        labels=dict(ctx.labels),
        annotations=dict(ctx.annotations),
        environment_variables=dict(ctx.environment),
        max_attempts=ctx.max_attempts,
        interruptible=ctx.interruptible,
    )
    if ctx.security_context is not None and ctx.security_context.HasField("run_as"):
        metadata.identity.CopyFrom(ctx.security_context.run_as)
        metadata.k8s_service_account = ctx.security_context.run_as.k8s_service_account
    return metadata


_PHASES = {
    execution_pb2.TaskExecution.QUEUED: Phase.QUEUED,
    execution_pb2.TaskExecution.WAITING_FOR_RESOURCES: Phase.WAITING_FOR_RESOURCES,
    execution_pb2.TaskExecution.INITIALIZING: Phase.INITIALIZING,
    execution_pb2.TaskExecution.RUNNING: Phase.RUNNING,
    execution_pb2.TaskExecution.SUCCEEDED: Phase.SUCCESS,
    execution_pb2.TaskExecution.FAILED: Phase.PERMANENT_FAILURE,
    execution_pb2.TaskExecution.ABORTED: Phase.PERMANENT_FAILURE,
}
_STATES = {
    agent_pb2.PENDING: Phase.INITIALIZING,
    agent_pb2.RUNNING: Phase.RUNNING,
    agent_pb2.SUCCEEDED: Phase.SUCCESS,
    agent_pb2.PERMANENT_FAILURE: Phase.PERMANENT_FAILURE,
    agent_pb2.RETRYABLE_FAILURE: Phase.RETRYABLE_FAILURE,
}


def _phase(resource: agent_pb2.Resource) -> Phase:
    """The plugin phase of a resource: its phase, or (phase UNDEFINED) its deprecated state, as Flyte reads them."""
    if resource.phase == execution_pb2.TaskExecution.UNDEFINED:
        return _STATES.get(resource.state, Phase.RETRYABLE_FAILURE)
    # A phase this version does not know (RETRYABLE_FAILED of later flyteidl): a failure the attempt may retry.
    return _PHASES.get(resource.phase, Phase.RETRYABLE_FAILURE)


def _failure(resource: agent_pb2.Resource, phase: Phase, state: bytes, common: Mapping[str, Any]) -> Transition:
    """A failed resource: the user's, unless the agent's `agent_error` says otherwise."""
    aborted = resource.phase == execution_pb2.TaskExecution.ABORTED
    message = resource.message or ("the agent aborted the task" if aborted else "the agent reports the task failed")
    if resource.HasField("agent_error"):
        error = resource.agent_error
        return Transition.failure(
            error.code or "AgentTaskFailed",
            message,
            retryable=error.kind == agent_pb2.AgentError.RECOVERABLE,
            system=error.origin == execution_pb2.ExecutionError.SYSTEM,
            state=state,
            **common,
        )
    code = "AgentTaskAborted" if aborted else "AgentTaskFailed"
    return Transition.failure(code, message, retryable=phase is Phase.RETRYABLE_FAILURE, state=state, **common)


def _refused(method: str, agent: str, exc: grpc.aio.AioRpcError) -> Transition:
    """An agent's refusal of a task (its code raised, it serves no such category): permanent, the user's, as
    the agent's own code or the task's definition is what failed; the agent's message says which."""
    message = f"agent {agent} refused {method} ({exc.code().name}): {exc.details()}"
    return Transition.failure(f"Agent{method}Refused", message, retryable=False, system=False)


def _custom_info(resource: agent_pb2.Resource) -> dict[str, JsonValue] | None:
    if not resource.HasField("custom_info"):
        return None
    return cast(dict[str, JsonValue], json_format.MessageToDict(resource.custom_info))


async def create(config: Mapping[str, Any]) -> AgentPlugin:
    """The factory the registry calls with `plugins.backends.agent` (an `AgentPluginConfig`): asks the agents
    which task types they serve (waiting up to `discovery_timeout_seconds` for those still starting)."""
    plugin = AgentPlugin(AgentPluginConfig.model_validate(dict(config)))
    if plugin.config.discover and plugin.config.named():
        waited = plugin.config.discovery_timeout_seconds
        answered = await plugin.discover(wait_seconds=waited) if waited > 0 else False
        plugin.start_watching(answered=answered)
    return plugin
