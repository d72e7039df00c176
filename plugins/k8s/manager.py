"""The one Kubernetes resource manager: every Kubernetes backend's objects are created, watched and released here.

A backend (`ResourceBackend`) only says which kind it makes, how to build the object for a task
attempt, and what phase an observed object is in. `KubePlugin` turns such a backend into a
`Plugin`, level-triggered like Flyte's K8s plugin manager (semantics §4.3):

- not started: build the object, decorate it (namespace from the project-domain template, the
  deterministic DNS-1123 name of the attempt, Flyte's labels and annotations, the finalizer and
  owner reference) and create it; AlreadyExists counts as created, so a restarted propeller never
  makes a second one. Quota exceeded -> WAITING_FOR_RESOURCES; forbidden -> retryable failure;
  an object the API server refuses as invalid or too large -> permanent failure; an error worth
  retrying (no answer, 5xx, 429, conflict) is raised, which fails the round and propeller retries it;
- started: read the object and ask the backend for its phase; a vanished object is a success for
  propeller to judge when the task left its documents (finalize deleted it and propeller died before
  recording the end: see `finished_before_deletion`), else a retryable system failure, as is one being
  deleted by someone else before it finished; Kubernetes events
  newer than the last seen are appended to the reason and bump the phase version;
- abort deletes the object; finalize removes our finalizer (re-reading on conflicts) and deletes it.

`Watcher` wakes propeller when a watched object changes (one list per namespace and kind each
interval, comparing resource versions), so progress does not wait for propeller's resync.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from plugins.common.background import cancel_and_wait
from plugins.common.state import VersionedState
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition
from plugins.k8s.client import EVENT, JSON, KubeApiError, KubeClient, ResourceKind
from plugins.k8s.config import ManagerConfig, PodConfig
from plugins.k8s.names import dns1123_label, is_dns1123_subdomain, label_key, label_value, namespace_for

log = logging.getLogger(__name__)

STATE_VERSION = 1
FINALIZER = "flyte.org/finalizer-k8s"
LEGACY_FINALIZER = "flyte/flytek8s"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER_NAME = "flyteplane"
PLUGIN_LABEL = "flyte.org/plugin"
TASK_EXECUTION_ANNOTATION = "flyte.org/task-execution-id"
ConfigT = TypeVar("ConfigT")
SettingsT = TypeVar("SettingsT", bound=PodConfig)  # every Kubernetes backend's settings carry `kube`


class ResourceBackend(Protocol):
    """What one Kubernetes backend supplies to the manager."""

    kind: ResourceKind

    async def build_resource(self, ctx: TaskExecutionContext) -> JSON:
        """The object for this attempt, without name or namespace (the manager sets them)."""
        ...

    def phase_of(self, ctx: TaskExecutionContext, resource: JSON, now: datetime) -> Transition:
        """The phase the observed object is in (version, reason, logs, error; no state)."""
        ...


@dataclass(frozen=True)
class ManagerState(VersionedState):
    """The manager's plugin state: where the object is and what was last reported about it."""

    state_version = STATE_VERSION
    plugin = "Kubernetes plugin"

    namespace: str
    name: str
    started: bool = False
    phase: int = -1
    phase_version: int = 0
    reason: str = ""
    last_event: str = ""  # RFC 3339 time of the newest Kubernetes event already reported
    version: int = STATE_VERSION


class ConfiguredBackend(Generic[ConfigT]):
    """What every `ResourceBackend` here starts from: its section of the configuration, and the manager (which
    knows the namespace of each task's objects)."""

    def __init__(self, config: ConfigT, manager: ResourceManager) -> None:
        self.config = config
        self._manager = manager


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as the API server writes it; None if absent or unreadable."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def bump_version(previous: ManagerState, transition: Transition) -> Transition:
    """Flyte's `MaybeUpdatePhaseVersion`: the same phase with a new reason gets a new version (so a new event)."""
    if (
        transition.phase != Phase.RUNNING
        and int(transition.phase) == previous.phase
        and transition.version <= previous.phase_version
        and transition.reason != previous.reason
    ):
        return replace(transition, version=previous.phase_version + 1)
    return transition


@dataclass
class _Watched:
    resource_version: str
    wake: Callable[[], None]


@dataclass
class Watcher:
    """Wakes the task whose object changed, by listing each watched namespace and kind every `interval` seconds."""

    client: KubeClient
    interval: float
    label_selector: str
    _watched: dict[tuple[ResourceKind, str], dict[str, _Watched]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def watch(self, kind: ResourceKind, namespace: str, name: str, version: str, wake: Callable[[], None]) -> None:
        if self.interval <= 0:
            return
        self._watched.setdefault((kind, namespace), {})[name] = _Watched(version, wake)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="k8s-watcher")

    def forget(self, kind: ResourceKind, namespace: str, name: str) -> None:
        names = self._watched.get((kind, namespace))
        if names is not None:
            names.pop(name, None)
            if not names:
                del self._watched[(kind, namespace)]

    async def _run(self) -> None:
        while self._watched:
            await asyncio.sleep(self.interval)
            for (kind, namespace), names in list(self._watched.items()):
                try:
                    items = await self.client.list(kind, namespace, label_selector=self.label_selector)
                except KubeApiError as error:
                    log.warning("cannot list %s in %s to watch them: %s", kind.plural, namespace, error)
                    continue
                current = {item["metadata"]["name"]: item["metadata"].get("resourceVersion", "") for item in items}
                for name, watched in list(names.items()):
                    version = current.get(name)
                    if version != watched.resource_version:
                        watched.resource_version = version or ""
                        watched.wake()

    async def aclose(self) -> None:
        self._watched.clear()
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None


class ResourceManager:
    """Creates, observes and releases the objects of one backend (see the module docstring)."""

    def __init__(self, plugin_id: str, config: ManagerConfig, client: KubeClient | None = None) -> None:
        self.plugin_id = plugin_id
        self.config = config
        self.client = client or KubeClient(config.connection)
        self.watcher = Watcher(self.client, config.watch_interval_seconds, self.selector)

    @property
    def selector(self) -> str:
        return f"{MANAGED_BY}={MANAGER_NAME},{PLUGIN_LABEL}={label_value(self.plugin_id)}"

    # -- names and metadata -----------------------------------------------------------------------------

    def namespace(self, ctx: TaskExecutionContext) -> str:
        execution = ctx.task_execution_id.node_execution_id.execution_id
        return namespace_for(self.config.namespace_template, execution.project, execution.domain)

    @staticmethod
    def object_name(generated_name: str) -> str:
        """The object's name: the generated name, made a valid DNS-1123 name if it is not one."""
        return dns1123_label(generated_name)

    def labels(self, ctx: TaskExecutionContext) -> dict[str, str]:
        """Flyte's labels for the objects of an attempt (values sanitised; ids truncated with a hash)."""
        ident = ctx.task_execution_id
        execution = ident.node_execution_id.execution_id
        labels = {label_key(k): label_value(v) for k, v in ctx.labels.items()}
        labels.update({
            "execution-id": label_value(execution.name),
            "project": label_value(execution.project),
            "domain": label_value(execution.domain),
            "node-id": label_value(ident.node_execution_id.node_id),
            "task-name": label_value(ident.task_id.name),
            "attempt": str(ident.retry_attempt),
            "interruptible": "true" if ctx.interruptible else "false",
            MANAGED_BY: MANAGER_NAME,
            PLUGIN_LABEL: label_value(self.plugin_id),
        })  # fmt: skip
        if ctx.workflow_id is not None:
            labels["workflow-name"] = label_value(ctx.workflow_id.name)
        return labels

    def annotations(self, ctx: TaskExecutionContext) -> dict[str, str]:
        ident = ctx.task_execution_id
        execution = ident.node_execution_id.execution_id
        full = (
            f"{execution.project}/{execution.domain}/{execution.name}/{ident.node_execution_id.node_id}/"
            f"{ident.task_id.name}/{ident.retry_attempt}"
        )
        return {**self.config.default_annotations, **ctx.annotations, TASK_EXECUTION_ANNOTATION: full}

    def decorate(self, ctx: TaskExecutionContext, body: JSON, name: str, namespace: str) -> JSON:
        """`body` with Flyte's metadata: name, namespace, labels, annotations, finalizer, owner reference."""
        metadata = dict(body.get("metadata") or {})
        metadata["name"] = name if is_dns1123_subdomain(name) else dns1123_label(name)
        metadata["namespace"] = namespace
        metadata["labels"] = {**self.config.default_labels, **(metadata.get("labels") or {}), **self.labels(ctx)}
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **self.annotations(ctx)}
        if self.config.inject_finalizer:
            metadata["finalizers"] = sorted({*(metadata.get("finalizers") or []), FINALIZER})
        owner = self.config.owner_reference
        if owner is not None:
            metadata["ownerReferences"] = [
                {
                    "apiVersion": owner.api_version,
                    "kind": owner.kind,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": owner.controller,
                    "blockOwnerDeletion": False,
                }
            ]
        return {**body, "metadata": metadata}

    # -- creating, observing, releasing -------------------------------------------------------------------

    async def create(self, kind: ResourceKind, namespace: str, body: JSON) -> Transition | None:
        """Creates `body`; None when it exists now (created or already there), else the transition to report.

        Errors worth retrying unchanged are raised (the round fails and is retried).
        """
        for _ in range(2):
            try:
                await self.client.create(kind, namespace, body)
                return None
            except KubeApiError as error:
                if error.already_exists:
                    return None
                if error.not_found and self.config.create_namespaces and "namespaces" in str(error):
                    await self.client.ensure_namespace(namespace)
                    continue
                return self._refused(error)
        return None  # pragma: no cover - the loop returns

    @staticmethod
    def _refused(error: KubeApiError) -> Transition:
        if error.quota_exceeded:
            return Transition(Phase.WAITING_FOR_RESOURCES, reason=f"Exceeded resourcequota: {error}")
        if error.retryable:
            raise error
        if error.status == 403:
            return Transition.failure("RuntimeFailure", str(error), retryable=True, system=True)
        if error.status == 413:
            return Transition.failure("EntityTooLarge", str(error), retryable=False, system=True)
        code = "InvalidResource" if error.status in (400, 422) else f"KubernetesError{error.status}"
        return Transition.failure(code, str(error), retryable=False, system=True)

    async def new_events(self, kind: ResourceKind, namespace: str, name: str, after: str) -> tuple[list[str], str]:
        """Messages of the object's Kubernetes events newer than `after` (RFC 3339), and the newest time seen."""
        if not self.config.record_events:
            return [], after
        selector = f"involvedObject.name={name},involvedObject.kind={kind.kind}"
        try:
            events = await self.client.list(EVENT, namespace, field_selector=selector)
        except KubeApiError as error:
            log.debug("cannot list events of %s/%s: %s", namespace, name, error)
            return [], after
        threshold = parse_time(after)
        found: list[tuple[datetime, str]] = []
        for event in events:
            when = parse_time(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp"))
            if when is None or (threshold is not None and when <= threshold):
                continue
            found.append((when, f"{event.get('reason', '')}: {event.get('message', '')}".strip(": ")))
        found.sort()
        newest = found[-1][0].isoformat().replace("+00:00", "Z") if found else after
        return [message for _, message in found], newest

    async def release(self, kind: ResourceKind, namespace: str, name: str, *, delete: bool) -> None:
        """Removes our finalizers (retrying conflicts with a fresh read), then deletes the object if asked."""
        self.watcher.forget(kind, namespace, name)
        for attempt in range(5):
            current = await self.client.get(kind, namespace, name)
            if current is None:
                return
            metadata = current.get("metadata") or {}
            finalizers = list(metadata.get("finalizers") or [])
            kept = [f for f in finalizers if f not in (FINALIZER, LEGACY_FINALIZER)]
            if kept == finalizers:
                break
            patch = {"metadata": {"finalizers": kept or None, "resourceVersion": metadata.get("resourceVersion")}}
            try:
                await self.client.patch(kind, namespace, name, patch)
                break
            except KubeApiError as error:
                if error.status != 409 or attempt == 4:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        if delete:
            await self.client.delete(kind, namespace, name)

    async def aclose(self) -> None:
        await self.watcher.aclose()
        self.client.close()


class KubePlugin:
    """A `Plugin` made of a `ResourceBackend` and the shared `ResourceManager` (see the module docstring)."""

    def __init__(
        self, plugin_id: str, task_types: tuple[str, ...], backend: ResourceBackend, manager: ResourceManager
    ) -> None:
        self.id = plugin_id
        self.task_types = task_types
        self.backend = backend
        self.manager = manager

    def _locate(self, ctx: TaskExecutionContext) -> ManagerState:
        state = ManagerState.decode(ctx.plugin_state)
        if state is not None:
            return state
        return ManagerState(self.manager.namespace(ctx), self.manager.object_name(ctx.generated_name))

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        try:
            state = self._locate(ctx)
        except (ValueError, TypeError) as exc:
            message = f"cannot read the Kubernetes plugin's state: {exc}"
            return Transition.failure("CorruptedPluginState", message, retryable=True, system=True)
        kind = self.backend.kind
        if not state.started:
            try:
                body = await self.backend.build_resource(ctx)
            except BadTaskDefinition as exc:
                return exc.transition()
            body = self.manager.decorate(ctx, body, state.name, state.namespace)
            refused = await self.manager.create(kind, state.namespace, body)
            if refused is not None:
                return replace(refused, state=state.encode())
            started = replace(state, started=True, phase=int(Phase.QUEUED), reason="task submitted to K8s")
            self.manager.watcher.watch(kind, state.namespace, state.name, "", ctx.wake)
            return Transition(Phase.QUEUED, reason=started.reason, state=started.encode())

        resource = await self.manager.client.get(kind, state.namespace, state.name)
        if resource is None:
            if await finished_before_deletion(ctx):
                reason = f"{kind.kind} {state.namespace}/{state.name} is gone after its task finished"
                done = replace(state, phase=int(Phase.SUCCESS), phase_version=0, reason=reason)
                return Transition(Phase.SUCCESS, reason=reason, state=done.encode())
            message = f"{kind.kind} {state.namespace}/{state.name} was deleted externally"
            return Transition.failure("ResourceDeletedExternally", message, retryable=True, system=True,
                                      state=state.encode())  # fmt: skip
        transition = self.backend.phase_of(ctx, resource, datetime.now(UTC))
        metadata = resource.get("metadata") or {}
        if not transition.phase.is_terminal and metadata.get("deletionTimestamp"):
            message = f"{kind.kind} {state.namespace}/{state.name} is being deleted before it finished"
            transition = Transition.failure("UnexpectedObjectDeletion", message, retryable=True, system=True)
        events, newest = await self.manager.new_events(kind, state.namespace, state.name, state.last_event)
        transition = bump_version(state, transition)
        if events:
            reason = "; ".join([transition.reason, *events]) if transition.reason else "; ".join(events)
            transition = replace(transition, reason=reason, version=max(transition.version, state.phase_version) + 1)
        new_state = replace(
            state,
            phase=int(transition.phase),
            phase_version=transition.version,
            reason=transition.reason,
            last_event=newest,
        )
        if transition.phase.is_terminal:
            self.manager.watcher.forget(kind, state.namespace, state.name)
        else:
            version = str(metadata.get("resourceVersion", ""))
            self.manager.watcher.watch(kind, state.namespace, state.name, version, ctx.wake)
        return replace(transition, state=new_state.encode())

    async def abort(self, ctx: TaskExecutionContext) -> None:
        """Deletes the object (our finalizer keeps it visible until `finalize`)."""
        state = self._locate(ctx)
        self.manager.watcher.forget(self.backend.kind, state.namespace, state.name)
        await self.manager.client.delete(self.backend.kind, state.namespace, state.name)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        state = self._locate(ctx)
        await self.manager.release(
            self.backend.kind, state.namespace, state.name, delete=self.manager.config.delete_resource_on_finalize
        )

    async def aclose(self) -> None:
        await self.manager.aclose()


async def finished_before_deletion(ctx: TaskExecutionContext) -> bool:
    """Whether the attempt's task left its verdict (outputs, error or futures document) in its output prefix.

    Finalizing deletes the object before propeller has recorded the attempt's end (it commits a round's
    states after the round): a propeller killed in between finds, on restart, a started attempt whose
    object is gone. The task writes its documents before its container exits, so before the object can
    have finished and been finalized; with them the attempt is over and propeller reads its verdict from
    them as after any success (`propeller.nodes.attempt.completion`), instead of retrying it. Without
    them (a raw container that writes none, or a failure before flytekit wrote anything) the object was
    deleted by someone else, or its end is unknowable: a retryable system failure, as in Flyte.
    """
    paths = ctx.paths
    return any(await ctx.storage.exist([paths.outputs, paths.error, paths.futures]))


def elapsed_since(resource: Mapping[str, Any], now: datetime) -> float:
    """Seconds since the object was created (0 when the API server did not say)."""
    created = parse_time((resource.get("metadata") or {}).get("creationTimestamp"))
    return 0.0 if created is None else max(0.0, (now - created).total_seconds())


def backend_plugin(
    plugin_id: str,
    task_types: tuple[str, ...],
    backend: Callable[[SettingsT, ResourceManager], ResourceBackend],
    schema: type[SettingsT],
    config: Mapping[str, Any],
) -> KubePlugin:
    """The plugin of one backend built from its configuration, with a manager of its own (what `create` returns)."""
    settings = schema.model_validate(dict(config))
    manager = ResourceManager(plugin_id, settings.kube)
    return KubePlugin(plugin_id, task_types, backend(settings, manager), manager)
