"""The events propeller reports to admin: node, task and workflow execution events, built from the engine's state.

The engine queues each event in its outbox as a serialized admin request (ExecutionState.emit); one
deliverer sends them once the round that implies them is committed.
"""

from __future__ import annotations

import itertools
import time
import uuid

from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, tasks_pb2, workflow_pb2
from flyteidl_py.event import event_pb2
from plugins.core import Phase, TaskExecutionContext, Transition
from propeller.nodes.base import NodeContext, NodeResult
from propeller.scope import START, Scope, task_key
from propeller.status import NodePhase, WorkflowPhase
from propeller.store import ExecutionState

NODE_EVENT_PHASE = {
    NodePhase.QUEUED: core.NodeExecution.QUEUED,
    NodePhase.RUNNING: core.NodeExecution.RUNNING,
    NodePhase.DYNAMIC_RUNNING: core.NodeExecution.DYNAMIC_RUNNING,
    NodePhase.SUCCEEDED: core.NodeExecution.SUCCEEDED,
    NodePhase.FAILED: core.NodeExecution.FAILED,
    NodePhase.SKIPPED: core.NodeExecution.SKIPPED,
    NodePhase.TIMED_OUT: core.NodeExecution.TIMED_OUT,
    NodePhase.RECOVERED: core.NodeExecution.RECOVERED,
    NodePhase.ABORTED: core.NodeExecution.ABORTED,
}
TASK_EVENT_PHASE = {
    Phase.WAITING_FOR_RESOURCES: core.TaskExecution.WAITING_FOR_RESOURCES,
    Phase.QUEUED: core.TaskExecution.QUEUED,
    Phase.INITIALIZING: core.TaskExecution.INITIALIZING,
    Phase.RUNNING: core.TaskExecution.RUNNING,
    Phase.SUCCESS: core.TaskExecution.SUCCEEDED,
    Phase.RETRYABLE_FAILURE: core.TaskExecution.FAILED,
    Phase.PERMANENT_FAILURE: core.TaskExecution.FAILED,
}
WORKFLOW_EVENT_PHASE = {
    WorkflowPhase.RUNNING: core.WorkflowExecution.RUNNING,
    WorkflowPhase.SUCCEEDING: core.WorkflowExecution.SUCCEEDING,
    WorkflowPhase.SUCCEEDED: core.WorkflowExecution.SUCCEEDED,
    WorkflowPhase.FAILING: core.WorkflowExecution.FAILING,
    WorkflowPhase.HANDLING_FAILURE_NODE: core.WorkflowExecution.FAILING,
    WorkflowPhase.FAILED: core.WorkflowExecution.FAILED,
    WorkflowPhase.ABORTED: core.WorkflowExecution.ABORTED,
}

# Request ids name one event for logs; unique per process by the counter, across processes by the prefix.
_REQUESTS = uuid.uuid4().hex[:12]
_REQUEST_COUNTER = itertools.count()


def timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def _runs_eager_task(scope: Scope, node: workflow_pb2.Node) -> bool:
    """Whether the node runs a task flytekit marked eager (`@eager`: it launches its sub-tasks as executions)."""
    if not node.HasField("task_node"):
        return False
    template = scope.tasks.get(task_key(node.task_node.reference_id))
    return template is not None and template.metadata.is_eager


def node_event(
    ctx: NodeContext, phase: core.NodeExecution.Phase, result: NodeResult
) -> admin_event_pb2.NodeExecutionEventRequest:
    """The event of node `ctx` entering `phase`, carrying what the handler's `result` says."""
    scope, node = ctx.scope, ctx.node
    event = event_pb2.NodeExecutionEvent(
        id=identifier_pb2.NodeExecutionIdentifier(execution_id=ctx.state.ident, node_id=ctx.unique_id),
        producer_id=ctx.services.settings.producer_id,
        phase=phase,
        occurred_at=timestamp(ctx.now),
        reported_at=timestamp(time.time()),
        event_version=1,
        spec_node_id=node.id,
        node_name=node.metadata.name or node.id,
        is_in_dynamic_chain=scope.in_dynamic_chain,
        # FlyteRemote.wait picks how to read a node from these flags, from the very first event on:
        # an array node seen without is_array is read as a plain task node and crashes the client.
        is_parent=result.is_parent
        or (node.HasField("workflow_node") and node.workflow_node.HasField("sub_workflow_ref")),
        is_dynamic=result.is_dynamic,
        is_array=result.is_array or node.HasField("array_node"),
        # Admin records the executions an eager task launches as node executions under this node.
        is_eager=_runs_eager_task(scope, node),
    )
    if node.id == START:
        event.output_uri = scope.start_outputs_uri
    else:
        event.input_uri = ctx.inputs_uri
    if scope.parent_unique_id:
        event.parent_node_metadata.node_id = scope.parent_unique_id
        event.retry_group = str(scope.parent_attempt)
    if phase == core.NodeExecution.SUCCEEDED and node.id != START:
        if result.output_uri:
            event.output_uri = result.output_uri
        if result.deck_uri:
            event.deck_uri = result.deck_uri
    elif result.error is not None and phase in (
        core.NodeExecution.FAILED,
        core.NodeExecution.TIMED_OUT,
        core.NodeExecution.ABORTED,
    ):
        event.error.CopyFrom(result.error)
    if result.workflow_node_metadata is not None:
        event.workflow_node_metadata.CopyFrom(result.workflow_node_metadata)
    elif result.task_node_metadata is not None:
        event.task_node_metadata.CopyFrom(result.task_node_metadata)
    if result.target_entity is not None:
        event.target_entity.CopyFrom(result.target_entity)
    return admin_event_pb2.NodeExecutionEventRequest(request_id=f"{_REQUESTS}-{next(_REQUEST_COUNTER)}", event=event)


def task_event(
    ctx: NodeContext,
    template: tasks_pb2.TaskTemplate,
    tctx: TaskExecutionContext,
    transition: Transition,
    phase: core.TaskExecution.Phase,
    *,
    plugin_id: str,
    output_uri: str = "",
) -> bytes:
    """The serialized event of task attempt `tctx` of node `ctx` in `phase`, as `transition` describes it."""
    now = time.time()
    event = event_pb2.TaskExecutionEvent(
        task_id=template.id,
        parent_node_execution_id=tctx.task_execution_id.node_execution_id,
        retry_attempt=tctx.attempt,
        phase=phase,
        phase_version=transition.version,
        producer_id=ctx.services.settings.producer_id,
        occurred_at=timestamp(ctx.now),
        reported_at=timestamp(now),
        task_type=template.type,
        logs=list(transition.logs),
        input_uri=tctx.paths.inputs,
        event_version=1,
        metadata=event_pb2.TaskExecutionMetadata(
            generated_name=tctx.generated_name,
            plugin_identifier=plugin_id,
            external_resources=list(transition.external_resources),
        ),
    )
    if transition.reason:
        event.reason = transition.reason
        event.reasons.append(event_pb2.EventReason(reason=transition.reason, occurred_at=timestamp(ctx.now)))
    if transition.log_context is not None:
        event.log_context.CopyFrom(transition.log_context)
    if transition.custom_info:
        info = struct_pb2.Struct()
        info.update(dict(transition.custom_info))
        event.custom_info.CopyFrom(info)
    if output_uri:
        event.output_uri = output_uri
    elif transition.error is not None and phase == core.TaskExecution.FAILED:
        event.error.CopyFrom(transition.error)
    return admin_event_pb2.TaskExecutionEventRequest(
        request_id=f"{tctx.generated_name}-{phase}-{transition.version}", event=event
    ).SerializeToString()


def workflow_event(
    state: ExecutionState,
    phase: WorkflowPhase,
    error: core.ExecutionError | None,
    *,
    producer_id: str,
    output_uri: str = "",
) -> bytes:
    """The serialized event of the execution entering `phase` (with its outputs or its error)."""
    event = event_pb2.WorkflowExecutionEvent(
        execution_id=state.ident,
        producer_id=producer_id,
        phase=WORKFLOW_EVENT_PHASE[phase],
        occurred_at=timestamp(time.time()),
    )
    if output_uri:
        event.output_uri = output_uri
    elif error is not None and phase in (
        WorkflowPhase.FAILING,
        WorkflowPhase.HANDLING_FAILURE_NODE,
        WorkflowPhase.FAILED,
    ):
        event.error.CopyFrom(error)
    return admin_event_pb2.WorkflowExecutionEventRequest(request_id=uuid.uuid4().hex, event=event).SerializeToString()


def occurred_at(kind: str, payload: bytes) -> float:
    """When an outbox event (as `ExecutionState.emit` stored it) occurred, in epoch seconds; 0 when unknown."""
    occurred: Timestamp
    if kind == "workflow":
        occurred = admin_event_pb2.WorkflowExecutionEventRequest.FromString(payload).event.occurred_at
    elif kind == "node":
        occurred = admin_event_pb2.NodeExecutionEventRequest.FromString(payload).event.occurred_at
    elif kind == "task":
        occurred = admin_event_pb2.TaskExecutionEventRequest.FromString(payload).event.occurred_at
    else:
        return 0.0
    return float(occurred.seconds + occurred.nanos / 1e9)


__all__ = [
    "NODE_EVENT_PHASE",
    "TASK_EVENT_PHASE",
    "WORKFLOW_EVENT_PHASE",
    "node_event",
    "occurred_at",
    "task_event",
    "timestamp",
    "workflow_event",
]
