"""The engine: a work queue of executions, woken by launches, plugin callbacks, timers and a slow resync.

Each round loads (or reuses) an execution's working copy, evaluates it, and commits the new node
states and the events they imply in one transaction (a transactional outbox). One deliverer task
sends the outbox to admin in batches, oldest first, while rounds go on: an event reaches admin only
after the state that implies it is committed, in the order it was decided, and is deleted from the
outbox only once admin has answered for it. Several engine processes may share one database: each execution is owned
by one process at a time through a lease, and a process that dies loses its leases to the others.
With `EngineMetrics`, rounds, the queue and event delivery are measured, and node handlers and plugin
calls through the interceptors of `propeller.interceptors`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2
from flyteplane import tracing
from flyteplane.database import Database
from flyteplane.logs import reset_log_source, set_log_source
from flyteplane.metrics import EngineMetrics
from flyteplane.storage import Storage
from flyteplane.tracing import tracing_on
from propeller import traces
from propeller.admin_client import AdminClient, EventNotDelivered
from propeller.events import WORKFLOW_EVENT_PHASE, occurred_at, workflow_event
from propeller.executor import Executor
from propeller.frontier import occupies_slot
from propeller.interceptors import TimedHandler, TimedPlugins, TracedPlugins
from propeller.nodes.array import ArrayNode
from propeller.nodes.base import (
    NodeHandlers,
    RoundBudget,
    ScopeRunner,
)
from propeller.nodes.branch import BranchNode
from propeller.nodes.dynamic import DynamicWorkflows
from propeller.nodes.gate import GateNode
from propeller.nodes.launch_plan import LaunchPlanNode
from propeller.nodes.structural import EndNode, StartNode
from propeller.nodes.subworkflow import SubworkflowNode
from propeller.nodes.task import TaskNode
from propeller.scope import Scope, task_key, upstream_of
from propeller.services import EngineSettings, Plugins, Services
from propeller.status import WorkflowPhase
from propeller.store import ExecutionState, LeaseLost, Store
from propeller.task_tokens import TaskTokenSource

log = logging.getLogger("flyteplane.propeller")


class Engine:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        plugins: Plugins,
        admin: AdminClient | None,
        settings: EngineSettings,
        metrics: EngineMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.store = Store(db, settings.owner, settings.tuning.lease_seconds)
        if metrics is not None:
            plugins = TimedPlugins(plugins, metrics.plugin_seconds)
        if tracing_on():
            plugins = TracedPlugins(plugins)
        self.services = Services(
            storage=storage,
            plugins=plugins,
            admin=admin,
            settings=settings,
            wake_cb=self.wake,
            timer_cb=self.wake_later,
            metrics=metrics,
            task_tokens=TaskTokenSource(admin.channel) if admin is not None else None,
        )
        self.executor = Executor(self.services, self._handlers)
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: set[int] = set()
        self._running: set[int] = set()
        self._again: set[int] = set()
        self._cache: dict[int, ExecutionState] = {}
        self._owned: set[int] = set()  # unfinished executions this process launched or took over
        # Executions that ended (or went to another engine) since the current lease maintenance began: a claim
        # that read one as ours and unfinished just before its end must not take it over again.
        self._ended: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox = asyncio.Event()  # set when there may be events to deliver
        self.rounds = 0
        self.round_seconds = 0.0  # time spent in rounds, all executions (benchmarks read it)
        if metrics is not None:
            metrics.queue_depth.set_function(self._queue.qsize)

    def _handlers(self, runner: ScopeRunner) -> NodeHandlers:
        """One handler per node kind; those whose nodes contain graphs run them through `runner`."""
        handlers = NodeHandlers(
            start=StartNode(),
            end=EndNode(),
            task=TaskNode(DynamicWorkflows(runner)),
            branch=BranchNode(runner),
            subworkflow=SubworkflowNode(runner),
            launchplan=LaunchPlanNode(),
            gate=GateNode(),
            array=ArrayNode(),
        )
        metrics = self.metrics
        if metrics is None:
            return handlers
        return handlers.intercepted(lambda kind, handler: TimedHandler(handler, metrics.node_seconds.labels(kind)))

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.settings.tuning.workers)]
        self._tasks.append(asyncio.create_task(self._maintain()))
        self._tasks.append(asyncio.create_task(self._deliverer()))
        self._outbox.set()  # events a previous process committed and did not deliver

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # ---- the API admin calls -------------------------------------------------------------------

    async def launch(self, launch: engine_pb2.LaunchRequest) -> None:
        # The launch RPC's span (child of admin's CreateExecution) becomes the execution span's parent.
        record_id = await self.store.create(launch, tracing.traceparent())
        self._owned.add(record_id)
        self.wake(record_id)

    async def abort(self, ident: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        record_id = await self.store.request_abort(ident, cause)
        # Any engine records the request; only the owner evaluates the execution (another would act
        # on work it does not own, then fail to save). An owner elsewhere sees it by its next resync.
        if record_id is not None and (await self.store.find(ident)).owner == self.settings.owner:
            self.wake(record_id)

    async def phase(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> tuple[int, str]:
        record = await self.store.find(ident)
        return WORKFLOW_EVENT_PHASE.get(WorkflowPhase(record.phase), core.WorkflowExecution.QUEUED), record.owner

    # ---- queue ---------------------------------------------------------------------------------

    def wake(self, record_id: int) -> None:
        """Have the execution evaluated soon; safe to call from any thread."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(record_id)
        else:
            loop.call_soon_threadsafe(self._enqueue, record_id)

    def wake_later(self, record_id: int, seconds: float) -> None:
        if self._loop is not None:
            self._loop.call_later(max(0.0, seconds), self.wake, record_id)

    def _enqueue(self, record_id: int) -> None:
        if record_id in self._running:
            self._again.add(record_id)
        elif record_id not in self._queued:
            self._queued.add(record_id)
            self._queue.put_nowait(record_id)

    async def _worker(self) -> None:
        while True:
            record_id = await self._queue.get()
            self._queued.discard(record_id)
            self._running.add(record_id)
            again = False
            began = time.perf_counter()
            try:
                again = await self._round(record_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("round of execution record %s failed", record_id)
                self._cache.pop(record_id, None)
                self.wake_later(record_id, 1.0)
            finally:
                elapsed = time.perf_counter() - began
                self.round_seconds += elapsed
                if self.metrics is not None:
                    self.metrics.round_seconds.observe(elapsed)
                self._running.discard(record_id)
                if again or record_id in self._again:
                    self._again.discard(record_id)
                    self._enqueue(record_id)

    async def _maintain(self) -> None:
        """Renew leases, take over orphaned executions, and re-evaluate everything now and then."""
        while True:
            try:
                self._ended.clear()
                claimed = [record_id for record_id in await self.store.claim() if record_id not in self._ended]
                taken = [record_id for record_id in claimed if record_id not in self._owned]
                if taken:
                    self._owned.update(taken)
                    log.info("took over %d execution(s) nobody held a lease on: records %s", len(taken), taken[:20])
                    if self.metrics is not None:
                        self.metrics.executions_taken_over.inc(len(taken))
                for record_id in claimed:
                    self.wake(record_id)
                if await self.store.with_pending_events():
                    self._outbox.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lease maintenance failed")
            await asyncio.sleep(min(self.settings.tuning.resync_seconds, self.settings.tuning.lease_seconds / 3))

    # ---- a round -------------------------------------------------------------------------------

    async def _round(self, record_id: int) -> bool:
        self.rounds += 1
        state = self._cache.get(record_id)
        if state is None:
            state = await self.store.load(record_id)
            self._cache[record_id] = state
        else:
            await self.store.refresh_control(state)
        token = set_log_source(state)  # every line of the round says whose it is
        try:
            return await self._round_of(record_id, state)
        finally:
            reset_log_source(token)

    async def _round_of(self, record_id: int, state: ExecutionState) -> bool:
        progressed = False
        if not state.phase.is_terminal:
            try:
                try:
                    if tracing_on():
                        with tracing.in_execution(traces.execution_context(state)):
                            progressed = await self._evaluate(state)
                    else:
                        progressed = await self._evaluate(state)
                finally:
                    await self.services.settle_writes(state)  # before anything is saved or reported
            except Exception as error:
                state.failed_rounds += 1
                log.exception("evaluating %s failed (%d in a row)", state.ident.name, state.failed_rounds)
                if state.failed_rounds < self.settings.tuning.max_failed_rounds:
                    self._cache.pop(record_id, None)
                    self.wake_later(record_id, min(30.0, 0.2 * 2**state.failed_rounds))
                    return False
                self._finish(
                    state,
                    WorkflowPhase.FAILED,
                    core.ExecutionError(
                        code="Workflow abort failed",
                        kind=core.ExecutionError.SYSTEM,
                        message=f"max number of system retry attempts [{state.failed_rounds}] exhausted: {error}",
                    ),
                )
        try:
            if state.changed:
                events = bool(state.events)
                await self.store.save(state)
                if events:
                    self._outbox.set()
            if state.spans:
                traces.flush(state)
        except LeaseLost:
            state.spans.clear()
            self._cache.pop(record_id, None)
            self._owned.discard(record_id)
            self._ended.add(record_id)
            return False
        if state.phase.is_terminal:
            self._cache.pop(record_id, None)
            self._owned.discard(record_id)
            self._ended.add(record_id)
            return False
        return progressed

    def top_scope(self, state: ExecutionState, workflow_dir: str) -> Scope:
        closure = state.closure
        return Scope.of_template(
            closure.primary.template,
            upstream_of(closure.primary.connections),
            key_prefix="",
            data_root=workflow_dir,
            top_level=True,
            tasks={task_key(t.template.id): t.template for t in closure.tasks},
            sub_workflows={task_key(s.template.id): s for s in closure.sub_workflows},
        )

    def _budget(self, state: ExecutionState) -> RoundBudget:
        """What a round may start: the slots of max parallelism free at its start, until `round_seconds` from now.
        The nodes holding a slot are counted once per loaded execution, then kept up to date from the records each
        round changes."""
        until = time.monotonic() + self.settings.tuning.round_seconds
        limit = state.spec.max_parallelism
        if limit <= 0:
            return RoundBudget(until=until)
        occupied = state.derived.occupied
        if occupied is None:
            occupied = state.derived.occupied = {k for k, s in state.nodes.items() if occupies_slot(s)}
        return RoundBudget(slots=limit - len(occupied), until=until)

    @staticmethod
    def _track_slots(state: ExecutionState) -> None:
        occupied = state.derived.occupied
        if occupied is None:
            return
        for key in state.dirty:
            status = state.nodes.get(key)
            if status is not None and occupies_slot(status):
                occupied.add(key)
            else:
                occupied.discard(key)

    async def _evaluate(self, state: ExecutionState) -> bool:
        scope = state.derived.top
        if scope is None:
            scope = state.derived.top = self.top_scope(state, self.services.workflow_dir(state))
        if state.abort_cause is not None:
            await self.executor.abort_scope(state, scope, state.abort_cause, final=True)
            if state.phase == WorkflowPhase.HANDLING_FAILURE_NODE:
                await self.executor.abort_scope(state, self._failure_scope(state, scope), state.abort_cause, final=True)
            self._finish(state, WorkflowPhase.ABORTED, None)
            return False
        if state.phase == WorkflowPhase.READY:
            inputs = (
                await self.services.read_literals_or_empty(state, state.inputs_uri)
                if state.inputs_uri
                else literals_pb2.LiteralMap()
            )
            await self.services.write_literals(scope.start_outputs_uri, inputs)
            state.started_at = time.time()
            self._transition(state, WorkflowPhase.RUNNING, None)
            log.info("execution started: workflow %s", state.closure.primary.template.id.name)
        if state.phase == WorkflowPhase.HANDLING_FAILURE_NODE:
            return await self._run_failure_node(state, scope)
        budget = self._budget(state)
        try:
            outcome = await self.executor.run_scope(state, scope, budget)
        finally:
            self._track_slots(state)
        if outcome.done and outcome.error is not None:
            await self.executor.abort_scope(state, scope, "Some node execution failed, auto-abort.", final=False)
            self._transition(state, WorkflowPhase.FAILING, outcome.error)
            if scope.failure_node is None:
                self._finish(state, WorkflowPhase.FAILED, outcome.error)
                return outcome.progressed
            # Kept in the record until the failure node is done: the execution then fails with it.
            state.error = outcome.error.SerializeToString()
            self._transition(state, WorkflowPhase.HANDLING_FAILURE_NODE, outcome.error)
            log.info("running the failure node %s", scope.failure_node.id)
            await self._run_failure_node(state, scope)
            return True
        elif outcome.done:
            end = state.nodes[scope.key("end-node")]
            self._transition(state, WorkflowPhase.SUCCEEDING, None)
            self._finish(state, WorkflowPhase.SUCCEEDED, None, output_uri=scope.outputs_uri("end-node", end))
        return outcome.progressed or budget.more

    def _failure_scope(self, state: ExecutionState, scope: Scope) -> Scope:
        failure = state.derived.failure
        if failure is None:
            failure = state.derived.failure = scope.failure_scope(core.ExecutionError.FromString(state.error))
        return failure

    async def _run_failure_node(self, state: ExecutionState, scope: Scope) -> bool:
        """Advance the failed workflow's failure node; once it is done, fail the execution with the
        workflow's error (or with the failure node's, if it failed too)."""
        failure = self._failure_scope(state, scope)
        budget = self._budget(state)
        try:
            outcome = await self.executor.run_scope(state, failure, budget)
        finally:
            self._track_slots(state)
        if outcome.done:
            error = outcome.error
            if outcome.timed_out:
                error = core.ExecutionError(
                    code="TimedOut", message="FailureNode Timed-out", kind=core.ExecutionError.USER
                )
            self._finish(state, WorkflowPhase.FAILED, error or failure.handled_error)
        return outcome.progressed or budget.more

    def _transition(
        self, state: ExecutionState, phase: WorkflowPhase, error: core.ExecutionError | None, output_uri: str = ""
    ) -> None:
        state.phase = phase
        producer = self.services.settings.producer_id
        state.emit("workflow", workflow_event(state, phase, error, producer_id=producer, output_uri=output_uri))

    def _finish(
        self, state: ExecutionState, phase: WorkflowPhase, error: core.ExecutionError | None, output_uri: str = ""
    ) -> None:
        if error is not None:
            state.error = error.SerializeToString()
        self._transition(state, phase, error, output_uri)
        duration = time.time() - state.started_at if state.started_at else 0.0
        if self.metrics is not None:
            self.metrics.executions.labels(phase.name).inc()
            self.metrics.execution_seconds.labels(phase.name).observe(duration)
        if error is None:
            log.info("execution ended: phase %s after %.3fs", phase.name, duration)
        else:
            log.info("execution ended: phase %s after %.3fs: %s", phase.name, duration, error.message[:500])
        if tracing_on():
            traces.execution_ended(state, phase.name, error is not None, time.time())

    async def _deliverer(self) -> None:
        """Send the outbox to admin whenever rounds committed events; back off while admin is away."""
        while True:
            await self._outbox.wait()
            self._outbox.clear()
            try:
                while await self._deliver_batch():
                    pass
            except asyncio.CancelledError:
                raise
            except EventNotDelivered as error:
                log.warning("admin did not take events yet: %s", error)
                await asyncio.sleep(1.0)
                self._outbox.set()
            except Exception:
                log.exception("delivering events failed")
                await asyncio.sleep(1.0)
                self._outbox.set()

    async def _deliver_batch(self) -> bool:
        """Deliver the oldest pending events; True when there were some (and all went): look again."""
        events = await self.store.next_events(self.settings.tuning.event_batch, self.settings.tuning.event_batch_bytes)
        if not events:
            return False
        admin = self.services.admin
        done = len(events) if admin is None else await admin.send_events([(e.kind, e.payload) for e in events])
        await self.store.ack([e.id for e in events[:done]])
        if self.metrics is not None:
            now = time.time()
            for event in events[:done]:
                self.metrics.events_delivered.labels(event.kind).inc()
            for event in events[done : done + 1]:
                self.metrics.events_failed.labels(event.kind).inc()
            for event in events[:done]:
                occurred = occurred_at(event.kind, event.payload)
                if occurred:
                    self.metrics.event_delivery_lag.observe(max(0.0, now - occurred))
        if done < len(events):
            raise EventNotDelivered(f"admin took {done} of {len(events)} events")
        return True
