"""The node state machine and the evaluation of a scope (one graph) within a round.

Level-triggered like a Kubernetes controller: each call reads the persisted node states, decides,
acts idempotently through the handlers and records the new states and the events they imply.
A round may make several passes over a scope, so a chain of quick nodes advances without waiting
for the next round; each pass visits only nodes that are not finished.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2, workflow_pb2
from flyteplane import tracing
from flyteplane.logs import reset_log_source, set_log_source
from flyteplane.tracing import tracing_on
from propeller import traces
from propeller.data.bindings import resolve_bindings, with_error_input
from propeller.data.errors import BindingError
from propeller.events import NODE_EVENT_PHASE, node_event
from propeller.frontier import Frontier, occupies_slot
from propeller.nodes.base import (
    NodeContext,
    NodeHandler,
    NodeHandlers,
    NodeResult,
    Outcome,
    RoundBudget,
    ScopeResult,
    ScopeRunner,
    UnknownNodeKind,
)
from propeller.recovery import mark_recovered, recover
from propeller.scope import END, START, Scope
from propeller.services import Services
from propeller.status import NodePhase, NodeStatus
from propeller.store import ExecutionState

log = logging.getLogger("flyteplane.propeller")


def max_attempts(node: workflow_pb2.Node, task_retries: int | None, default: int) -> int:
    if node.metadata.HasField("retries") and node.metadata.retries.retries:
        return node.metadata.retries.retries + 1
    if task_retries:
        return task_retries + 1
    return default


class Executor:
    """Evaluates scopes; one instance per engine, shared by all executions. It is the ScopeRunner the
    handlers of nodes that contain graphs receive: `handlers` makes them, given the executor."""

    def __init__(self, services: Services, handlers: Callable[[ScopeRunner], NodeHandlers]) -> None:
        self.services = services
        self.handlers = handlers(self)

    def context(
        self,
        state: ExecutionState,
        scope: Scope,
        node: workflow_pb2.Node,
        now: float,
        budget: RoundBudget | None = None,
    ) -> NodeContext:
        key = scope.key(node.id)
        return NodeContext(
            services=self.services,
            state=state,
            scope=scope,
            node=node,
            key=key,
            status=state.node(key),
            unique_id=scope.unique_id(node.id),
            data_dir=scope.data_dir(node.id),
            now=now,
            budget=budget if budget is not None else RoundBudget(),
        )

    # ---- reading upstream data -----------------------------------------------------------------

    def status_of(self, state: ExecutionState, scope: Scope, node_id: str) -> tuple[Scope, NodeStatus] | None:
        owner = scope.owner_of(node_id)
        if owner is None:
            return None
        return owner, state.nodes.get(owner.key(node_id)) or NodeStatus()

    async def read_outputs(self, state: ExecutionState, scope: Scope, node_id: str) -> literals_pb2.LiteralMap:
        found = self.status_of(state, scope, START if node_id == "" else node_id)
        if found is None:
            raise BindingError("BindingResolutionFailure", f"no node {node_id!r} to read outputs from")
        owner, status = found
        return await self.services.read_literals_or_empty(state, owner.outputs_uri(node_id or START, status))

    async def resolve_inputs(
        self, state: ExecutionState, scope: Scope, node: workflow_pb2.Node
    ) -> literals_pb2.LiteralMap:
        async def read(node_id: str) -> literals_pb2.LiteralMap:
            return await self.read_outputs(state, scope, node_id)

        resolved: literals_pb2.LiteralMap = await resolve_bindings(list(node.inputs), read)
        return resolved

    # ---- one scope -----------------------------------------------------------------------------

    def readiness(self, state: ExecutionState, scope: Scope, node_id: str) -> str:
        """ "ready", "wait" or "skip" (an upstream node was skipped or failed)."""
        for up in scope.upstream.get(node_id, ()):
            found = self.status_of(state, scope, up)
            if found is None:
                continue
            phase = found[1].node_phase
            if phase in (NodePhase.SKIPPED, NodePhase.FAILED, NodePhase.TIMED_OUT, NodePhase.ABORTED):
                return "skip"
            if not phase.is_success:
                return "wait"
        return "ready"

    def counts(self, node: workflow_pb2.Node) -> bool:
        """Whether starting `node` takes a slot of the execution's max parallelism."""
        if node.id in (START, END):
            return False
        try:
            return self.handlers.for_node(node).counts_for_parallelism
        except UnknownNodeKind:
            return False  # it fails as soon as it is started

    def frontier(self, state: ExecutionState, scope: Scope) -> Frontier:
        """The scope's frontier for this loaded execution (built on first use)."""
        frontiers = state.derived.frontiers
        found = frontiers.get(scope.frontier_key)
        if found is not None and found.scope is scope:
            return found
        frontier = frontiers[scope.frontier_key] = Frontier.build(state.nodes, scope, self.counts)
        return frontier

    async def run_scope(self, state: ExecutionState, scope: Scope, budget: RoundBudget) -> ScopeResult:
        """Advance every node that can move; return whether the scope finished and how.

        A pass visits the running nodes and starts ready ones (see propeller.frontier): at most
        `max_starts_per_pass` per pass and `max_nodes_per_round` per round across nested scopes, and nodes that
        take a slot of max parallelism only while `budget.slots` (shared by the round's scopes) allows. A node that
        finishes gives its slot back at once, so quick nodes do not hold a round to `max_parallelism` starts. No
        pass begins after `budget.until`. A scope left with work for those limits sets `budget.more`.
        """
        progressed = False
        frontier = self.frontier(state, scope)
        tuning = self.services.settings.tuning
        cap = tuning.max_nodes_per_round
        nodes, key = state.nodes, scope.key
        limited = False  # whether the scope stopped for the round's limits with nodes it could still move
        for number in range(tuning.max_passes_per_round):
            if number and time.monotonic() >= budget.until:  # the last pass moved: the next round goes on
                limited = True
                break
            now = time.time()
            runnable: list[NodeContext] = []
            picked: dict[str, bool] = {}  # node started by this pass -> whether it took a slot
            slots: set[str] = set()  # running nodes holding a parallelism slot before this pass
            for node_id in frontier.in_order(frontier.running):
                status = nodes.get(key(node_id))
                if status is None or status.node_phase.is_terminal:
                    frontier.finished(node_id, status.node_phase if status else NodePhase.SKIPPED, self.counts)
                    progressed = True
                    continue
                ctx = self.context(state, scope, scope.nodes[node_id], now, budget)
                if occupies_slot(ctx.status) and self.counts(ctx.node):
                    slots.add(node_id)
                runnable.append(ctx)
            room = min(cap - budget.started, tuning.max_starts_per_pass)
            for ready, counted in ((frontier.ready_free, False), (frontier.ready_counted, True)):
                kept: list[str] = []
                taken = 0
                for node_id in ready:
                    if room <= 0 or (counted and budget.slots <= 0):
                        break
                    taken += 1
                    node = scope.nodes[node_id]
                    if node_id != START:
                        verdict = self.readiness(state, scope, node_id)
                        if verdict == "wait":  # an upstream node outside this scope is still going
                            kept.append(node_id)
                            continue
                        if verdict == "skip":
                            ctx = self.context(state, scope, node, now, budget)
                            self.set_phase(ctx, NodePhase.SKIPPED, NodeResult(Outcome.SKIP))
                            runnable.append(ctx)
                            room -= 1
                            continue
                    if counted:
                        budget.slots -= 1
                    room -= 1
                    picked[node_id] = counted
                    runnable.append(self.context(state, scope, node, now, budget))
                if taken:
                    ready[:taken] = kept
            limited = frontier.has_ready and room <= 0
            if limited:
                progressed = True  # nodes to start in a later pass, or in the next round, which comes at once
            if not runnable:
                break
            budget.started += len(picked)
            active = [c for c in runnable if not c.status.node_phase.is_terminal]
            before = [(c.status.phase, c.status.attempts) for c in active]
            await asyncio.gather(*(self.process(ctx) for ctx in active))
            moved = len(active) < len(runnable) or any(
                (p, a) != (c.status.phase, c.status.attempts) for (p, a), c in zip(before, active, strict=True)
            )
            progressed |= moved
            failed = False
            for ctx in runnable:
                node_id, phase = ctx.node.id, ctx.status.node_phase
                if phase.is_terminal:
                    if node_id in slots or picked.get(node_id):
                        budget.slots += 1  # a finished node no longer holds its slot
                    frontier.finished(node_id, phase, self.counts)
                    failed |= phase in (NodePhase.FAILED, NodePhase.TIMED_OUT)
                else:
                    frontier.running.add(node_id)
            if not moved or failed or budget.started >= cap:
                break
        if limited:
            budget.more = True
        return self.outcome(state, frontier, progressed)

    def outcome(self, state: ExecutionState, frontier: Frontier, progressed: bool) -> ScopeResult:
        scope = frontier.scope
        failed = frontier.first_failed(state.nodes)
        if failed is not None:
            error = (
                core.ExecutionError.FromString(failed.error)
                if failed.error
                else core.ExecutionError(code="NodeFailed", message="a node failed", kind=core.ExecutionError.SYSTEM)
            )
            if failed.node_phase == NodePhase.TIMED_OUT:
                error = core.ExecutionError(code="Timeout", message="Timeout in node", kind=core.ExecutionError.USER)
            if scope.failure_policy == 0:  # FAIL_IMMEDIATELY
                return ScopeResult(True, error, failed.node_phase == NodePhase.TIMED_OUT, progressed)
            active = frontier.any_active(state.nodes)
            return ScopeResult(not active, error if not active else None, False, progressed)
        if END not in scope.nodes:  # a failure node's scope: done once its node is
            finished = not (frontier.running or frontier.waiting or frontier.has_ready)
            return ScopeResult(finished, None, False, progressed)
        end = state.nodes.get(scope.key(END))
        if end is not None and end.node_phase == NodePhase.SUCCEEDED:
            return ScopeResult(True, None, False, progressed)
        return ScopeResult(False, None, False, progressed)

    async def abort_scope(self, state: ExecutionState, scope: Scope, reason: str, *, final: bool) -> None:
        now = time.time()
        contexts = []
        for node_id in scope.order:
            status = state.nodes.get(scope.key(node_id))
            if status is None or status.node_phase.is_terminal or status.node_phase == NodePhase.NOT_STARTED:
                continue
            contexts.append(self.context(state, scope, scope.nodes[node_id], now))
        for ctx in contexts:
            handler = self.handlers.for_node(ctx.node)
            await handler.abort(ctx, reason)
            await handler.finalize(ctx)
            if final:
                error = core.ExecutionError(code="NodeAborted", message=reason, kind=core.ExecutionError.SYSTEM)
                self.set_phase(ctx, NodePhase.ABORTED, NodeResult(Outcome.FAILURE, error=error))

    # ---- one node ------------------------------------------------------------------------------

    async def process(self, ctx: NodeContext) -> None:
        token = set_log_source(ctx)  # lines logged for this node say which node and attempt
        try:
            await self._process(ctx)
        finally:
            reset_log_source(token)

    async def _process(self, ctx: NodeContext) -> None:
        try:
            handler = self.handlers.for_node(ctx.node)
        except UnknownNodeKind as error:
            self.set_phase(ctx, NodePhase.FAILED, NodeResult.fail("UnknownNodeKind", error.message, system=True))
            return
        status = ctx.status
        if status.node_phase == NodePhase.NOT_STARTED:
            if ctx.node.id != START:
                recovered = await recover(ctx)
                if recovered is not None:
                    mark_recovered(ctx, recovered)
                    return
                try:
                    inputs = await self.resolve_inputs(ctx.state, ctx.scope, ctx.node)
                    if ctx.scope.handled_error is not None:
                        with_error_input(inputs, ctx.scope.handled_error, ctx.node.id)
                except BindingError as error:
                    result = NodeResult.fail(error.code, error.message, system=True)
                    self.set_phase(ctx, NodePhase.FAILED, result)
                    return
                if handler.inputs_in_memory(ctx):
                    self.services.write_literals_later(ctx.state, ctx.inputs_uri, inputs)
                else:
                    await self.services.write_literals(ctx.inputs_uri, inputs)
                status.queued_at = status.attempt_started_at = ctx.now
                # A launch-plan node's first event must already name its child execution: FlyteRemote
                # reads a node without it as a task node and fails. Its RUNNING event (sent in this same
                # pass, once the child exists) is therefore its first.
                is_launch_plan = ctx.node.HasField("workflow_node") and ctx.node.workflow_node.HasField(
                    "launchplan_ref"
                )
                self.set_phase(ctx, NodePhase.QUEUED, NodeResult(Outcome.RUNNING), emit=not is_launch_plan)
        elif status.node_phase == NodePhase.RETRYABLE_FAILURE:
            # The retry backoff's wait, persisted with the failure: the pass's own clock decides, so the
            # next attempt's events never carry a time before the wait's end.
            remaining = status.retry_not_before - ctx.now
            if remaining > 0:
                self.services.wake_later(ctx.state.record_id, remaining)
                return
            status.retry_not_before = 0.0
            status.attempts += 1
            status.attempt_started_at = ctx.now
            handler.reset(ctx)
            status.phase = NodePhase.RUNNING
            ctx.touch()
        try:
            if tracing_on():
                # Plugin calls and cache lookups of this pass are spans of the attempt.
                with tracing.attached(traces.attempt_context(ctx, status.attempts)):
                    result = await handler.handle(ctx)
            else:
                result = await handler.handle(ctx)
        except BindingError as error:
            result = NodeResult.fail(error.code, error.message, system=True)
        result = self.check_deadlines(ctx, handler, result)
        await self.apply(ctx, handler, result)

    def check_deadlines(self, ctx: NodeContext, handler: NodeHandler, result: NodeResult) -> NodeResult:
        if result.outcome not in (Outcome.RUNNING, Outcome.DYNAMIC_RUNNING):
            return result
        timeout = (
            ctx.node.metadata.timeout.ToTimedelta().total_seconds() if ctx.node.metadata.HasField("timeout") else 0
        )
        if not timeout:
            timeout = handler.limits(ctx).timeout
        if timeout and ctx.now - ctx.status.attempt_started_at > timeout:
            return NodeResult.fail("TimeoutExpired", f"task execution timeout [{timeout:g}s] expired", retryable=True)
        if timeout and result.wake_after is None:
            result.wake_after = max(0.05, timeout - (ctx.now - ctx.status.attempt_started_at))
        return result

    async def apply(self, ctx: NodeContext, handler: NodeHandler, result: NodeResult) -> None:
        status = ctx.status
        if result.wake_after is not None:
            self.services.wake_later(ctx.state.record_id, result.wake_after)
        match result.outcome:
            case Outcome.RUNNING:
                if status.node_phase != NodePhase.RUNNING:
                    self.set_phase(ctx, NodePhase.RUNNING, result)
            case Outcome.DYNAMIC_RUNNING:
                if status.node_phase != NodePhase.DYNAMIC_RUNNING:
                    self.set_phase(ctx, NodePhase.DYNAMIC_RUNNING, result)
            case Outcome.SUCCESS:
                await handler.finalize(ctx)
                self.set_phase(ctx, NodePhase.SUCCEEDED, result)
            case Outcome.SKIP:
                self.set_phase(ctx, NodePhase.SKIPPED, result)
            case Outcome.TIMED_OUT:
                await handler.abort(ctx, "timed out")
                await handler.finalize(ctx)
                self.set_phase(ctx, NodePhase.TIMED_OUT, result)
            case Outcome.FAILURE:
                await handler.finalize(ctx)
                self.set_phase(ctx, NodePhase.FAILED, result)
            case Outcome.RETRYABLE_FAILURE:
                await self.retry_or_fail(ctx, handler, result)

    async def retry_or_fail(self, ctx: NodeContext, handler: NodeHandler, result: NodeResult) -> None:
        status = ctx.status
        error = result.error or core.ExecutionError(code="Unknown", message="Unknown error message")
        limits = handler.limits(ctx)
        limit = max_attempts(ctx.node, limits.retries, self.services.settings.tuning.default_max_attempts)
        if error.kind == core.ExecutionError.SYSTEM:
            status.system_failures += 1
            eligible = status.system_failures <= self.services.settings.tuning.max_system_failures
            current, ceiling = status.system_failures, self.services.settings.tuning.max_system_failures
        else:
            current = status.attempts + 1 - status.system_failures
            eligible, ceiling = current < limit, limit
        await handler.abort(ctx, "retrying")
        await handler.finalize(ctx)
        if eligible:
            log.info("attempt %d failed, retrying: %s: %s", status.attempts, error.code, error.message[:500])
            if self.services.metrics is not None and status.attempt_started_at:
                elapsed = max(0.0, ctx.now - status.attempt_started_at)
                self.services.metrics.attempt_seconds.labels("retried").observe(elapsed)
            if tracing_on():
                traces.attempt_ended(ctx, status.attempts, status.attempt_started_at, error.message or error.code)
            status.phase = NodePhase.RETRYABLE_FAILURE
            status.error = error.SerializeToString()
            ctx.touch()
            ident = ctx.state.ident
            settings = self.services.settings
            delay = settings.retry_delay(ident.project, ident.domain, status.attempts + 1) if limits.backs_off else 0.0
            if delay > 0:
                # Saved with this round before anyone waits on it (see `process`).
                status.retry_not_before = time.time() + delay
                self.services.wake_later(ctx.state.record_id, delay)
            else:
                ctx.wake()
            return
        kind = core.ExecutionError.ErrorKind.Name(error.kind)
        final = core.ExecutionError(
            code=f"RetriesExhausted|{error.code}",
            message=f"[{current}/{ceiling}] currentAttempt done. Last Error: {kind}::{error.message}",
            kind=core.ExecutionError.USER,
        )
        log.info("attempt %d failed, no retry left: %s", status.attempts, final.message[:500])
        self.set_phase(ctx, NodePhase.FAILED, NodeResult(Outcome.FAILURE, error=final))

    # ---- state and events ----------------------------------------------------------------------

    def set_phase(self, ctx: NodeContext, phase: NodePhase, result: NodeResult, *, emit: bool = True) -> None:
        status = ctx.status
        status.phase = phase
        metrics = self.services.metrics
        if phase in (NodePhase.RUNNING, NodePhase.DYNAMIC_RUNNING) and not status.started_at:
            status.started_at = ctx.now
            if metrics is not None and status.queued_at:
                metrics.node_queue_seconds.observe(max(0.0, ctx.now - status.queued_at))
        if phase.is_terminal:
            status.stopped_at = ctx.now
            if metrics is not None and status.queued_at:
                metrics.node_duration_seconds.labels(phase.name).observe(max(0.0, ctx.now - status.queued_at))
                if ctx.node.HasField("task_node") and status.attempt_started_at:
                    outcome = "succeeded" if phase == NodePhase.SUCCEEDED else "failed"
                    metrics.attempt_seconds.labels(outcome).observe(max(0.0, ctx.now - status.attempt_started_at))
        if result.error is not None:
            status.error = result.error.SerializeToString()
            status.message = result.error.message[:500]
        if phase.is_terminal and tracing_on():
            traces.node_ended(ctx, phase)
        ctx.touch()
        event_phase = NODE_EVENT_PHASE.get(phase)
        if event_phase is not None and emit:
            ctx.state.emit("node", node_event(ctx, event_phase, result).SerializeToString())


__all__ = ["Executor", "max_attempts"]
