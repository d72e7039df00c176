"""The `k8s-array` backend: legacy `container_array` tasks (old map tasks) as one Pod per index (semantics §4.5).

The task's `plugins.ArrayJob` custom gives the size (else the length of the input collections),
the parallelism (0: all at once) and `min_successes` or `min_success_ratio`. Index `i` runs the
task's pod with `FLYTE_K8S_ARRAY_INDEX=i` (flytekit's map entrypoint then writes its outputs
under `<output prefix>/<i>`), named `<generated name>-<i>[-<retry>]`. Each round lists the array's
pods once, advances every index (creating pods up to the parallelism, retrying failed indexes up
to `default_subtask_retries`), and decides the task's phase from the summary: success once enough
indexes succeeded and all are done — after gathering `outputs.pb` as one collection per output
(a failed index contributes a none literal) — failure once too few can still succeed. The pods
share the resource manager's metadata, finalizers and watch with the other Kubernetes backends.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Self

from google.protobuf import json_format

from flyteidl_py.core import errors_pb2, execution_pb2, literals_pb2
from flyteidl_py.event import event_pb2
from flyteidl_py.plugins import array_job_pb2
from flyteplane.errors import NotFound
from plugins.common.state import VersionedState
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition
from plugins.k8s.client import JSON, POD
from plugins.k8s.config import ArrayConfig
from plugins.k8s.logs import pod_log_links
from plugins.k8s.manager import ResourceManager
from plugins.k8s.names import dns1123_label, label_value
from plugins.k8s.pod import PRIMARY_CONTAINER_ANNOTATION, PodStatusUnknown, build_pod, pod_phase

STATE_VERSION = 1
PARENT_LABEL = "flyte.org/array-parent"
TASK_TYPES = ("container_array",)

PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"


@dataclass
class Subtask:
    status: str = PENDING
    retry: int = 0
    reason: str = ""


@dataclass
class ArrayState(VersionedState):
    state_version = STATE_VERSION
    plugin = "array plugin"

    namespace: str
    size: int
    min_successes: int
    parallelism: int
    subtasks: list[Subtask] = field(default_factory=list)
    version: int = STATE_VERSION

    @classmethod
    def from_fields(cls, value: dict[str, object]) -> Self:
        subtasks = value["subtasks"]
        if not isinstance(subtasks, list):
            raise ValueError(f"unknown {cls.plugin} state: subtasks {subtasks!r}")
        return super().from_fields({**value, "subtasks": [Subtask(**s) for s in subtasks]})

    def count(self, status: str) -> int:
        return sum(1 for s in self.subtasks if s.status == status)


def array_job(ctx: TaskExecutionContext) -> array_job_pb2.ArrayJob:
    job = array_job_pb2.ArrayJob()
    if ctx.template.HasField("custom"):
        json_format.ParseDict(json_format.MessageToDict(ctx.template.custom), job, ignore_unknown_fields=True)
    return job


async def array_size(ctx: TaskExecutionContext, job: array_job_pb2.ArrayJob) -> int:
    """The job's size, else the length of its input collections (which must agree)."""
    if job.size:
        return int(job.size)
    try:
        inputs = await ctx.storage.read_proto(ctx.paths.inputs, literals_pb2.LiteralMap)
    except NotFound:
        return 1
    sizes = {len(lit.collection.literals) for lit in inputs.literals.values() if lit.HasField("collection")}
    if len(sizes) > 1:
        raise BadTaskDefinition(f"the array's input collections differ in length: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def min_successes(job: array_job_pb2.ArrayJob, size: int) -> int:
    """How many indexes must succeed: `min_successes`, else `ceil(size * min_success_ratio)` (ratio 1.0 if unset)."""
    which = job.WhichOneof("success_criteria")
    if which == "min_successes":
        return int(job.min_successes)
    ratio = job.min_success_ratio if which == "min_success_ratio" else 1.0
    return math.ceil(size * ratio)


_EVENT_PHASE = {
    PENDING: execution_pb2.TaskExecution.QUEUED,
    RUNNING: execution_pb2.TaskExecution.RUNNING,
    SUCCEEDED: execution_pb2.TaskExecution.SUCCEEDED,
    FAILED: execution_pb2.TaskExecution.FAILED,
}


class ArrayPlugin:
    """Serves `container_array`; see the module docstring."""

    id = "k8s-array"
    task_types: tuple[str, ...] = TASK_TYPES

    def __init__(self, config: ArrayConfig, manager: ResourceManager | None = None) -> None:
        self.config = config
        self.manager = manager or ResourceManager(self.id, config.kube)

    # -- names --------------------------------------------------------------------------------------------

    @staticmethod
    def pod_name(ctx: TaskExecutionContext, index: int, retry: int) -> str:
        return dns1123_label(f"{ctx.generated_name}-{index}" + (f"-{retry}" if retry else ""))

    def _subtask_context(self, ctx: TaskExecutionContext, index: int, retry: int) -> TaskExecutionContext:
        raw = f"{ctx.paths.raw_output_prefix.rstrip('/')}/{index}"
        paths = replace(ctx.paths, raw_output_prefix=raw, checkpoint_prefix=f"{raw}/{retry}/_flytecheckpoints")
        return replace(ctx, array_index=index, paths=paths, labels={**ctx.labels, PARENT_LABEL: self._parent(ctx)})

    @staticmethod
    def _parent(ctx: TaskExecutionContext) -> str:
        return label_value(ctx.generated_name)

    # -- the plugin interface -----------------------------------------------------------------------------

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        try:
            state = ArrayState.decode(ctx.plugin_state)
        except (ValueError, TypeError, KeyError) as exc:
            message = f"cannot read the array plugin's state: {exc}"
            return Transition.failure("CorruptedPluginState", message, retryable=True, system=True)
        if state is None:
            try:
                state = await self._start(ctx)
            except BadTaskDefinition as exc:
                return exc.transition()
            if state.size < state.min_successes:
                message = f"array of size {state.size} cannot reach {state.min_successes} successes"
                return Transition.failure("ArrayJobMinSuccessesNotMet", message, retryable=False)
            if state.size == 0:
                await self._assemble(ctx, state)
                return Transition(Phase.SUCCESS, reason="empty array", state=state.encode())
        pods = await self._pods(ctx, state.namespace)
        now = datetime.now(UTC)
        logs: dict[int, list[execution_pb2.TaskLog]] = {}
        for index, subtask in enumerate(state.subtasks):
            if subtask.status in (SUCCEEDED, FAILED):
                continue
            name = self.pod_name(ctx, index, subtask.retry)
            pod = pods.get(name)
            if subtask.status == RUNNING:
                await self._observe(ctx, state, index, subtask, pod, now, logs)
        await self._launch(ctx, state, pods)
        return await self._summary(ctx, state, logs)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        state = ArrayState.decode(ctx.plugin_state)
        namespace = state.namespace if state else self.manager.namespace(ctx)
        for name in await self._pods(ctx, namespace):
            self.manager.watcher.forget(POD, namespace, name)
            await self.manager.client.delete(POD, namespace, name)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        state = ArrayState.decode(ctx.plugin_state)
        namespace = state.namespace if state else self.manager.namespace(ctx)
        delete = self.manager.config.delete_resource_on_finalize
        for name in await self._pods(ctx, namespace):
            await self.manager.release(POD, namespace, name, delete=delete)

    async def aclose(self) -> None:
        await self.manager.aclose()

    # -- rounds -------------------------------------------------------------------------------------------

    async def _start(self, ctx: TaskExecutionContext) -> ArrayState:
        job = array_job(ctx)
        size = await array_size(ctx, job)
        parallelism = int(job.parallelism) or size
        if self.config.max_array_parallelism:
            parallelism = min(parallelism, self.config.max_array_parallelism)
        return ArrayState(
            namespace=self.manager.namespace(ctx),
            size=size,
            min_successes=min_successes(job, size),
            parallelism=max(parallelism, 1),
            subtasks=[Subtask() for _ in range(size)],
        )

    async def _pods(self, ctx: TaskExecutionContext, namespace: str) -> dict[str, JSON]:
        selector = f"{self.manager.selector},{PARENT_LABEL}={self._parent(ctx)}"
        items = await self.manager.client.list(POD, namespace, label_selector=selector)
        return {item["metadata"]["name"]: item for item in items}

    async def _observe(
        self,
        ctx: TaskExecutionContext,
        state: ArrayState,
        index: int,
        subtask: Subtask,
        pod: JSON | None,
        now: datetime,
        logs: dict[int, list[execution_pb2.TaskLog]],
    ) -> None:
        if pod is None:
            outcome = Transition.failure("ResourceDeletedExternally", "the subtask's pod vanished", retryable=True)
        else:
            try:
                outcome = pod_phase(pod, self.config, now)
            except PodStatusUnknown as unknown:
                subtask.reason = str(unknown)
                return
            primary = (pod["metadata"].get("annotations") or {}).get(PRIMARY_CONTAINER_ANNOTATION, "")
            suffix = f" #{ctx.attempt}-{index}" + (f"-{subtask.retry}" if subtask.retry else "")
            logs[index] = pod_log_links(ctx, self.config.logs, pod, primary, suffix=suffix)
        subtask.reason = outcome.reason
        if outcome.phase == Phase.SUCCESS:
            subtask.status = SUCCEEDED
            await self._unwatch(ctx, state, index, subtask)
        elif outcome.phase == Phase.RETRYABLE_FAILURE and subtask.retry < self.config.default_subtask_retries:
            await self._unwatch(ctx, state, index, subtask)
            subtask.retry += 1
            subtask.status = PENDING
        elif outcome.phase.is_failure:
            subtask.status = FAILED
            await self._unwatch(ctx, state, index, subtask)

    async def _unwatch(self, ctx: TaskExecutionContext, state: ArrayState, index: int, subtask: Subtask) -> None:
        self.manager.watcher.forget(POD, state.namespace, self.pod_name(ctx, index, subtask.retry))

    async def _launch(self, ctx: TaskExecutionContext, state: ArrayState, pods: Mapping[str, JSON]) -> None:
        running = state.count(RUNNING)
        for index, subtask in enumerate(state.subtasks):
            if running >= state.parallelism:
                break
            if subtask.status != PENDING:
                continue
            name = self.pod_name(ctx, index, subtask.retry)
            if name not in pods:
                sub = self._subtask_context(ctx, index, subtask.retry)
                pod, _ = await build_pod(sub, self.config, state.namespace)
                body = self.manager.decorate(sub, pod, name, state.namespace)
                refused = await self.manager.create(POD, state.namespace, body)
                if refused is not None:
                    subtask.reason = refused.reason
                    if refused.phase.is_failure:
                        subtask.status = FAILED
                    continue
            subtask.status = RUNNING
            running += 1
            self.manager.watcher.watch(POD, state.namespace, name, "", ctx.wake)

    async def _summary(
        self, ctx: TaskExecutionContext, state: ArrayState, logs: Mapping[int, list[execution_pb2.TaskLog]]
    ) -> Transition:
        succeeded, failed = state.count(SUCCEEDED), state.count(FAILED)
        finished = succeeded + failed
        external = [
            event_pb2.ExternalResourceInfo(
                external_id=self.pod_name(ctx, index, subtask.retry),
                index=index,
                retry_attempt=subtask.retry,
                phase=_EVENT_PHASE[subtask.status],
                logs=logs.get(index, []),
            )
            for index, subtask in enumerate(state.subtasks)
        ]
        common: dict[str, Any] = {
            "state": state.encode(),
            "external_resources": external,
            "custom_info": {"size": state.size, "succeeded": succeeded, "failed": failed},
        }
        if state.size - failed < state.min_successes:
            await self.abort(replace(ctx, plugin_state=state.encode()))
            code, message = await self._first_error(ctx, state)
            message = f"{failed} of {state.size} subtasks failed; {state.min_successes} had to succeed. {message}"
            return Transition.failure(code, message, retryable=True, version=finished, **common)
        if succeeded >= state.min_successes and finished == state.size:
            await self._assemble(ctx, state)
            reason = f"{succeeded} of {state.size} succeeded"
            return Transition(Phase.SUCCESS, version=finished, reason=reason, **common)
        if any("Exceeded resourcequota" in s.reason for s in state.subtasks if s.status == PENDING):
            return Transition(Phase.WAITING_FOR_RESOURCES, version=finished, reason="resource quota", **common)
        return Transition(
            Phase.RUNNING, version=finished, reason=f"{succeeded} succeeded, {failed} failed of {state.size}", **common
        )

    async def _first_error(self, ctx: TaskExecutionContext, state: ArrayState) -> tuple[str, str]:
        for index, subtask in enumerate(state.subtasks):
            if subtask.status != FAILED:
                continue
            uri = ctx.storage.join(ctx.paths.output_prefix, str(index), "error.pb")
            try:
                document = await ctx.storage.read_proto(uri, errors_pb2.ErrorDocument)
            except NotFound:
                return "ARRAY_JOB_GENERIC_FAILURE", f"index {index}: {subtask.reason}"
            return document.error.code or "ARRAY_JOB_GENERIC_FAILURE", f"index {index}: {document.error.message}"
        return "ARRAY_JOB_GENERIC_FAILURE", ""

    async def _assemble(self, ctx: TaskExecutionContext, state: ArrayState) -> None:
        """outputs.pb: per output variable, the collection of every index's value (none for failed indexes)."""
        names = list(ctx.template.interface.outputs.variables)

        async def outputs_of(index: int) -> literals_pb2.LiteralMap | None:
            if state.subtasks[index].status != SUCCEEDED:
                return None
            uri = ctx.storage.join(ctx.paths.output_prefix, str(index), "outputs.pb")
            try:
                return await ctx.storage.read_proto(uri, literals_pb2.LiteralMap)
            except NotFound:
                return literals_pb2.LiteralMap()

        per_index = await asyncio.gather(*(outputs_of(i) for i in range(state.size)))
        none = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
        result = literals_pb2.LiteralMap()
        for name in names:
            items = [(m.literals[name] if m is not None and name in m.literals else none) for m in per_index]
            result.literals[name].CopyFrom(
                literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
            )
        await ctx.storage.write_proto(ctx.paths.outputs, result)


def create(config: Mapping[str, Any]) -> ArrayPlugin:
    """The factory the registry calls with `plugins.backends.k8s-array` (an `ArrayConfig`)."""
    return ArrayPlugin(ArrayConfig.model_validate(dict(config)))
