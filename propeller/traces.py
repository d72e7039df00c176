"""The spans of an execution: one for the execution, one per node, one per task attempt (tracing on only).

A span is recorded when what it covers ends, with the start time the node records persisted and ids
derived from the execution, node key and attempt (`flyteplane.tracing`), so the spans of an
execution that crashed and resumed in another process still form one tree. Spans wait in the
round's working copy and go out only after the round committed, like its events.
"""

from __future__ import annotations

from functools import partial

from flyteidl_py.core import catalog_pb2
from flyteplane import tracing
from propeller.nodes.base import NodeContext
from propeller.status import NodePhase
from propeller.store import ExecutionState

_FAILED_NODE = (NodePhase.FAILED, NodePhase.TIMED_OUT, NodePhase.ABORTED)


def execution_context(state: ExecutionState) -> tracing.Context:
    e = state.ident
    return tracing.execution_context(e.project, e.domain, e.name, state.trace_parent)


def _node_context(ctx: NodeContext) -> tracing.Context:
    parent = tracing.current_execution() or execution_context(ctx.state)
    return tracing.child_context(parent, "node", ctx.key)


def attempt_context(ctx: NodeContext, attempt: int) -> tracing.Context:
    """The context of a task attempt's span: what the task process gets as TRACEPARENT."""
    return tracing.child_context(_node_context(ctx), "attempt", str(attempt))


def _attributes(state: ExecutionState) -> dict[str, str | int | float | bool]:
    e = state.ident
    return {"flyte.project": e.project, "flyte.domain": e.domain, "flyte.execution": e.name}


def _node_attributes(ctx: NodeContext) -> dict[str, str | int | float | bool]:
    attributes = _attributes(ctx.state)
    attributes["flyte.node"] = ctx.unique_id
    if ctx.node.HasField("task_node"):
        attributes["flyte.task"] = ctx.node.task_node.reference_id.name
    if ctx.status.cache_status:
        attributes["flyte.cache_status"] = catalog_pb2.CatalogCacheStatus.Name(ctx.status.cache_status)
    return attributes


def _runs_attempts(ctx: NodeContext) -> bool:
    return ctx.node.HasField("task_node") or ctx.node.HasField("array_node")


def attempt_ended(ctx: NodeContext, attempt: int, start: float, error: str | None) -> None:
    """Queue the span of a task attempt that ended at the round's time."""
    if not _runs_attempts(ctx):
        return
    node = _node_context(ctx)
    attributes = _node_attributes(ctx)
    attributes["flyte.attempt"] = attempt
    ctx.state.spans.append(
        partial(
            tracing.record_span,
            f"attempt {ctx.unique_id}/{attempt}",
            node,
            tracing.child_ids(node, "attempt", str(attempt)),
            start,
            ctx.now,
            attributes,
            error,
        )
    )


def node_ended(ctx: NodeContext, phase: NodePhase) -> None:
    """Queue the spans of a node that reached a terminal phase (its last attempt's too)."""
    status = ctx.status
    error = (status.message or phase.name) if phase in _FAILED_NODE else None
    if status.attempt_started_at and phase != NodePhase.SKIPPED:
        attempt_ended(ctx, status.attempts, status.attempt_started_at, error)
    parent = tracing.current_execution() or execution_context(ctx.state)
    attributes = _node_attributes(ctx)
    attributes["flyte.phase"] = phase.name
    attributes["flyte.attempts"] = status.attempts + 1
    ctx.state.spans.append(
        partial(
            tracing.record_span,
            f"node {ctx.unique_id}",
            parent,
            tracing.child_ids(parent, "node", ctx.key),
            status.queued_at or status.started_at or ctx.now,
            ctx.now,
            attributes,
            error,
        )
    )


def execution_ended(state: ExecutionState, phase_name: str, failed: bool, now: float) -> None:
    """Queue the execution's own span (its parent: the launch's context, or none)."""
    e = state.ident
    parent = tracing.extract({"traceparent": state.trace_parent}) if state.trace_parent else None
    attributes = _attributes(state)
    attributes["flyte.phase"] = phase_name
    attributes["flyte.workflow"] = state.closure.primary.template.id.name
    state.spans.append(
        partial(
            tracing.record_span,
            f"execution {e.project}/{e.domain}/{e.name}",
            parent,
            tracing.execution_ids(e.project, e.domain, e.name, state.trace_parent),
            state.started_at or now,
            now,
            attributes,
            phase_name if failed else None,
        )
    )


def flush(state: ExecutionState) -> None:
    """Record the spans of a committed round."""
    spans, state.spans = state.spans, []
    for record in spans:
        record()


__all__ = ["attempt_context", "attempt_ended", "execution_context", "execution_ended", "flush", "node_ended"]
