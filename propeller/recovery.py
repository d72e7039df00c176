"""Recovery mode (semantics §3.12): nodes that succeeded in the recovered execution are not run again.

An execution created by RecoverExecution carries `metadata.mode = RECOVERED` and the original's id in
`metadata.reference_execution`. Before a node's inputs are resolved, admin is asked how the node
with the same unique id ended in the original. If it SUCCEEDED (or was itself RECOVERED), its inputs
and outputs are copied into this execution's layout and the node is reported RECOVERED, with the
original's cache, dynamic-workflow or child-execution metadata; in any other case it runs as usual.
Nested nodes (sub-workflow and branch children) go through the same check under their unique ids,
so a sub-workflow that failed half-way recovers its finished children.

Not (yet) done as Flyte does: resuming a failed attempt from its checkpoint, reusing a dynamic
parent's futures.pb, recovering a launch-plan node's child execution, and array elements one by one.
"""

from __future__ import annotations

import logging

import grpc

from flyteidl_py.admin import common_pb2, execution_pb2, node_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.event import event_pb2
from propeller.events import node_event
from propeller.nodes.base import NodeContext, NodeResult, Outcome
from propeller.scope import END, START
from propeller.status import NodePhase

log = logging.getLogger("flyteplane.propeller.recovery")

_REUSABLE = (core.NodeExecution.SUCCEEDED, core.NodeExecution.RECOVERED)
# Admin could not answer now: fail the round (it is retried) rather than re-run a finished node.
_TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED)


def recovering_from(ctx: NodeContext) -> identifier_pb2.WorkflowExecutionIdentifier | None:
    """The execution this one recovers, when it is a recovery and the node may be recovered."""
    metadata = ctx.state.spec.metadata
    if metadata.mode != execution_pb2.ExecutionMetadata.RECOVERED or not metadata.reference_execution.name:
        return None
    if ctx.node.id in (START, END) or ctx.services.admin is None:
        return None
    return metadata.reference_execution


async def recover(ctx: NodeContext) -> NodeResult | None:
    """Put the original node's inputs and outputs in place and describe it, or None when the node must run."""
    original = recovering_from(ctx)
    if original is None or ctx.services.admin is None:
        return None
    ident = identifier_pb2.NodeExecutionIdentifier(execution_id=original, node_id=ctx.unique_id)
    stub = ctx.services.admin.admin
    try:
        node = await stub.GetNodeExecution(node_execution_pb2.NodeExecutionGetRequest(id=ident), timeout=30)
        if node.closure.phase not in _REUSABLE:
            return None
        data = await stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=ident), timeout=30)
    except grpc.aio.AioRpcError as error:
        if error.code() in _TRANSIENT:
            raise
        if error.code() != grpc.StatusCode.NOT_FOUND:
            log.warning("cannot recover node %s of %s, running it: %s", ident.node_id, original.name, error.details())
        return None
    await _place(ctx, data.full_inputs, data.inputs, node.input_uri, ctx.inputs_uri)
    await _place(ctx, data.full_outputs, data.outputs, node.closure.output_uri, ctx.outputs_uri)
    storage = ctx.services.storage
    result = NodeResult(
        Outcome.SUCCESS,
        output_uri=ctx.outputs_uri,
        is_parent=node.metadata.is_parent_node,
        is_dynamic=node.metadata.is_dynamic,
        is_array=node.metadata.is_array,
    )
    if node.closure.deck_uri and await storage.exists(node.closure.deck_uri):
        result.deck_uri = node.closure.deck_uri
    if node.closure.HasField("workflow_node_metadata"):
        result.workflow_node_metadata = event_pb2.WorkflowNodeMetadata(
            execution_id=node.closure.workflow_node_metadata.executionId
        )
        result.target_entity = ctx.node.workflow_node.launchplan_ref
    elif ctx.node.HasField("task_node"):
        metadata = event_pb2.TaskNodeMetadata(
            cache_status=node.closure.task_node_metadata.cache_status,
            catalog_key=node.closure.task_node_metadata.catalog_key,
        )
        if data.HasField("dynamic_workflow"):
            metadata.dynamic_workflow.id.CopyFrom(data.dynamic_workflow.id)
            metadata.dynamic_workflow.compiled_workflow.CopyFrom(data.dynamic_workflow.compiled_workflow)
        result.task_node_metadata = metadata
        result.target_entity = ctx.node.task_node.reference_id
    return result


async def _place(
    ctx: NodeContext, full: literals_pb2.LiteralMap, blob: common_pb2.UrlBlob, source: str, target: str
) -> None:
    """Write a literal map admin returned, or copy its file when admin left it out for its size."""
    if full.literals or not blob.url or not source:
        await ctx.services.write_literals(target, full)
    else:
        await ctx.services.storage.copy(source, target)


def mark_recovered(ctx: NodeContext, result: NodeResult) -> None:
    """Record the node as RECOVERED and queue its event (which, unlike other phases' events, names outputs)."""
    status = ctx.status
    status.phase = NodePhase.RECOVERED
    status.queued_at = status.started_at = status.stopped_at = ctx.now
    ctx.touch()
    request = node_event(ctx, core.NodeExecution.RECOVERED, result)
    request.event.output_uri = result.output_uri
    if result.deck_uri:
        request.event.deck_uri = result.deck_uri
    ctx.state.emit("node", request.SerializeToString())
