"""Array nodes (map tasks): one task attempt per element, run through the element's plugin, gathered at the end.

Element state is kept compactly in the node's record (a phase, an attempt count and the plugin's
phase/version/state plus the cache status per element), so a 100,000-element map stays one record.
Progress reaches admin as one task event for the array node whose external resources are the
elements that changed.

When the sub-task is cacheable, every element is cached on its own: before its first attempt it looks
itself up with its own inputs (a hit writes the cached outputs and the element succeeds without a task
process), and a successful run records its outputs. Lookup failures run the element (caching only
ever saves work); `overwrite_cache` skips lookups and replaces what is stored.

When the array can no longer reach its minimum of successes it fails at once, as Flyte's does: elements
still running are aborted (and reported ABORTED), and its error names the failed elements' indices
with their own error messages (identical messages grouped by index ranges, bounded in number and size),
so a user sees why elements failed without opening each one.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from flyteidl_py.core import catalog_pb2, literals_pb2, tasks_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.event import event_pb2
from flyteplane.errors import FlyteplaneError, NotFound
from plugins.core import Phase, Plugin, TaskExecutionContext, Transition
from propeller.catalog.keys import CatalogKey
from propeller.data.arrays import array_size, element_inputs, gather_outputs, min_successes, narrowed_inputs
from propeller.data.errors import ArrayUserError
from propeller.events import TASK_EVENT_PHASE, task_event
from propeller.nodes.attempt import completion, task_context, task_template
from propeller.nodes.base import NodeContext, NodeHandler, NodeResult, Outcome
from propeller.nodes.cache import cacheable, lookup, record
from propeller.status import NodePhase

EXECUTING, FAILING, SUCCEEDING = 1, 2, 3
_CONCURRENCY = 64
# Elements advanced per round: a round's work, its task event (the elements that changed) and the time
# other executions wait stay bounded however large the array; when more are due, the node asks for another
# round at once.
_STEPS_PER_ROUND = 2000
# Elements are started in a round only within this many seconds of its start, and at most this many (those
# already started are still looked at): starting one costs a process, so a round that started 2,000 would keep
# the array's state and its events from being saved -- and the node from showing in admin -- for a minute, and
# looking at elements it will not start costs every round. The rest start next round.
_START_SECONDS = 1.0
_STARTS_PER_ROUND = 4 * _CONCURRENCY
# Started elements are looked at when their plugin woke the execution for them (it saw their state change),
# and every one of them at least this often: a plugin that follows its attempt without waking for it is still
# polled, and an engine that took the execution over (it has no record of wakes) looks at every one at once.
# An element whose plugin said it will wake for it (`Transition.wakes`: one queued for a local reuse worker) is
# not swept until it has: a sweep of a 1,000-element map otherwise looked at every queued element once more.
# Looking at every started element every round made a round's cost grow with the elements in flight, and the
# rounds with them (each element's end wakes one): quadratic in the array's width.
_SWEEP_SECONDS = 5.0
# An array wider than this waits proportionally longer for its elements' ends to batch, up to `_BATCH_STRETCH`
# times `array_batch_seconds` (see `_element_wake`): a round of a 10,000-element map saves a record of about 400 kB
# and makes admin rewrite a task execution of about 2 MB, which at ten rounds a second cost more than its elements.
_BATCH_WIDTH = 1000
_BATCH_STRETCH = 10.0
# Element outputs are gathered this many at a time: each parsed message holds memory of its own until copied.
_GATHER_SLICE = 1024
# The failed elements' own error messages kept in the node's record (the first ones to fail; the record is
# rewritten every round, so they stay few), and how much of each; the array's error lists at most
# `_LISTED` groups of them within `_SUMMARY_CHARS`.
_ERRORS_KEPT = 20
_ERROR_CHARS = 1000
_LISTED = 10
_SUMMARY_CHARS = 8000
_TERMINAL = frozenset(int(p) for p in NodePhase if p.is_terminal)
_FAILED = frozenset({int(NodePhase.FAILED), int(NodePhase.TIMED_OUT)})
_SUCCESS = frozenset(int(p) for p in NodePhase if p.is_success)


def _not_started(cache_status: int = 0) -> list[int | str]:
    """An element's plugin entry before an attempt: [plugin phase, version, state (base64), cache status]."""
    return [-1, 0, "", cache_status]


def _entry(entry: list[int | str]) -> tuple[int, int, str, int]:
    """An element's plugin entry read back: plugin phase, version, state (base64) and cache status."""
    cache_status = int(entry[3]) if len(entry) > 3 else 0  # records written before elements were cached have 3
    return int(entry[0]), int(entry[1]), str(entry[2]), cache_status


@dataclass(frozen=True)
class _ElementCache:
    """What the elements need this round to look themselves up in the catalog and record themselves."""

    template: tasks_pb2.TaskTemplate
    array: workflow_pb2.ArrayNode
    inputs: literals_pb2.LiteralMap  # the array node's own inputs, collections and bound inputs

    def key(self, index: int) -> CatalogKey:
        return CatalogKey.for_element(
            self.template, self.array, element_inputs(self.inputs, list(self.array.bound_inputs), index)
        )


class ArrayNode(NodeHandler):
    counts_for_parallelism = True

    def __init__(self) -> None:
        # Per array node instance (execution record, node's unique id): the elements whose plugin woke the
        # execution since they were last looked at, and when every started element was last looked at. In memory
        # only: a restarted or new engine has none, so it looks at every element first.
        self._woken: dict[tuple[int, str], set[int]] = {}
        self._swept: dict[tuple[int, str], float] = {}
        # The elements the last round left running (not ended; 0 while the array's parallelism holds some back),
        # and when the round asked for by an element's wake, `array_batch_seconds` after it, is due (see
        # `_element_wake`).
        self._running: dict[tuple[int, str], int] = {}
        self._batch_due: dict[tuple[int, str], float] = {}
        # The elements whose plugin said, when last looked at, that it wakes for them (skipped by sweeps).
        self._waking: dict[tuple[int, str], set[int]] = {}

    def _forget(self, ctx: NodeContext) -> None:
        key = (ctx.state.record_id, ctx.unique_id)
        self._woken.pop(key, None)
        self._swept.pop(key, None)
        self._running.pop(key, None)
        self._batch_due.pop(key, None)
        self._waking.pop(key, None)

    def _element_wake(self, ctx: NodeContext, index: int) -> Callable[[], None]:
        """What element `index`'s plugin calls when the element changed: the element is looked at next round. That
        round comes at once when every element still running has woken (the array may be over), else within the
        engine's `array_batch_seconds` -- longer for an array of more than `_BATCH_WIDTH` elements, in proportion, up
        to `_BATCH_STRETCH` times: its every round saves its whole record, and admin rewrites its task execution's
        list of elements -- for the elements that woke meanwhile too. One such round is asked for at a time: a round
        that came sooner (a sweep, a start) leaves it due, and it serves the wakes until then; asking anew after every
        round made the rounds asked for pile up, one more for each round that came otherwise."""
        services, record_id, key = ctx.services, ctx.state.record_id, (ctx.state.record_id, ctx.unique_id)
        stretch = min(_BATCH_STRETCH, max(1.0, ctx.status.array_size / _BATCH_WIDTH))

        def wake() -> None:
            woken = self._woken.get(key)
            if woken is None:  # the node is over, or its next round looks at every element anyway
                services.wake(record_id)
                return
            woken.add(index)
            delay = services.settings.tuning.array_batch_seconds * stretch
            if delay <= 0 or len(woken) >= self._running.get(key, 0):
                services.wake(record_id)
                return
            now = time.monotonic()
            due = self._batch_due.get(key)
            if due is None or due <= now:
                self._batch_due[key] = now + delay
                services.wake_later(record_id, delay)

        return wake

    def _woken_of(self, ctx: NodeContext) -> set[int]:
        return self._woken.setdefault((ctx.state.record_id, ctx.unique_id), set())

    def _waking_of(self, ctx: NodeContext) -> set[int]:
        return self._waking.setdefault((ctx.state.record_id, ctx.unique_id), set())

    def _template(self, ctx: NodeContext) -> tasks_pb2.TaskTemplate:
        return task_template(ctx, ctx.node.array_node.node.task_node.reference_id)

    def _element_dir(self, ctx: NodeContext, index: int) -> str:
        return f"{ctx.output_dir}/{index}/{ctx.status.element_attempts[index]}"

    def _element_context(
        self, ctx: NodeContext, template: tasks_pb2.TaskTemplate, index: int, raw_state: str
    ) -> TaskExecutionContext:
        """The plugin's view of element `index`'s current attempt, its state decoded from the entry."""
        return task_context(
            ctx,
            template,
            attempt=ctx.status.element_attempts[index],
            plugin_state=base64.b64decode(raw_state),
            output_dir=self._element_dir(ctx, index),
            array_index=index,
            narrowed_inputs_reader=lambda: self._narrowed_inputs(ctx, index),
            wake=self._element_wake(ctx, index),
        )

    async def _narrowed_inputs(self, ctx: NodeContext, index: int) -> literals_pb2.LiteralMap | None:
        """Element `index`'s view of the array's inputs (`TaskExecutionContext.narrowed_inputs_reader`); the array's
        inputs come from the engine's cache, so this costs the element's literals, not the array's."""
        return narrowed_inputs(await ctx.read_inputs(), list(ctx.node.array_node.bound_inputs), index)

    async def handle(self, ctx: NodeContext) -> NodeResult:
        status, array = ctx.status, ctx.node.array_node
        template = self._template(ctx)
        if status.array_phase == 0:
            try:
                size = array_size(await ctx.read_inputs(), list(array.bound_inputs))
            except ArrayUserError as error:
                return NodeResult.fail(error.code, error.message)
            status.array_size = size
            status.element_phase = [int(NodePhase.NOT_STARTED)] * size
            status.element_attempts = [0] * size
            status.element_plugin = [_not_started() for _ in range(size)]
            status.array_phase = EXECUTING
            ctx.touch()
        size = status.array_size
        state = ctx.state
        plugin = ctx.services.plugins.plugin_for(template.type, state.ident.project, state.ident.domain)
        retries = template.metadata.retries.retries if template.metadata.HasField("retries") else 0
        if array.node.metadata.HasField("retries") and array.node.metadata.retries.retries:
            retries = array.node.metadata.retries.retries
        changed: list[event_pb2.ExternalResourceInfo] = []
        if status.array_phase == EXECUTING:
            limit = array.parallelism if array.WhichOneof("parallelism_option") and array.parallelism else size
            element_phase = status.element_phase
            # The elements that may run now (the first `limit` not ended): of those already started, the ones woken
            # for (all of them on a sweep) are looked at; of those not started, a round takes `_STARTS_PER_ROUND`;
            # and at most `_STEPS_PER_ROUND` in all -- the rest are due next round, which then comes at once.
            not_ended = [i for i in range(size) if element_phase[i] not in _TERMINAL]
            window, held_back = not_ended[:limit], len(not_ended) > limit
            key, now = (ctx.state.record_id, ctx.unique_id), time.monotonic()
            swept = self._swept.get(key)
            sweep = swept is None or now - swept >= _SWEEP_SECONDS
            if sweep:
                self._swept[key] = now
                # However quiet its elements, the node is looked at again by the next sweep's time.
                ctx.services.wake_later(ctx.state.record_id, _SWEEP_SECONDS)
            woken = self._woken_of(ctx)
            waking = self._waking_of(ctx)
            element_plugin, fresh, deferred = status.element_plugin, 0, False
            selected: list[int] = []
            for index in window:
                started = int(element_plugin[index][0]) >= 0
                due = not started or index in woken
                if not due and (not sweep or index in waking):
                    continue
                if not started and fresh == _STARTS_PER_ROUND:
                    deferred = True
                    continue
                if len(selected) == _STEPS_PER_ROUND:
                    if due:  # a sweep reaches the first `_STEPS_PER_ROUND` only; the rest are swept as they move up
                        deferred = True
                        break
                    continue
                fresh += not started
                selected.append(index)
            # Taken before they are looked at: a wake while one is being looked at is for the next round.
            woken.difference_update(selected)
            semaphore = asyncio.Semaphore(_CONCURRENCY)
            cache = None
            if cacheable(template, ctx):
                cache = _ElementCache(template, array, await ctx.read_inputs())
            start_until = time.monotonic() + _START_SECONDS

            async def step(index: int) -> None:
                nonlocal deferred
                async with semaphore:
                    if int(status.element_plugin[index][0]) < 0 and time.monotonic() > start_until:
                        deferred = True  # not started yet, and this round has started enough: the next one
                        return
                    resource = await self._step(ctx, plugin, template, index, retries, cache)
                    if resource is not None:
                        changed.append(resource)

            await asyncio.gather(*(step(i) for i in selected))
            if held_back and any(status.element_phase[i] in _TERMINAL for i in selected):
                deferred = True  # ended elements made room for ones the parallelism held back: they start next round
            if deferred:
                ctx.wake()
            if changed:
                ctx.touch()
            failed = sum(p in _FAILED for p in status.element_phase)
            succeeded = sum(p in _SUCCESS for p in status.element_phase)
            active = size - failed - succeeded
            # An element's end is worth a round at once when it may let one waiting for a slot start (the array's
            # parallelism leaves some out of the window), else when it is the last running one's (`_element_wake`).
            self._running[key] = active if active <= limit else 0
            minimum = min_successes(array, size)
            if size - failed < minimum:
                status.array_phase = FAILING
            elif succeeded >= minimum and active == 0:
                status.array_phase = SUCCEEDING
        if status.array_phase != EXECUTING:
            self._forget(ctx)
        if status.array_phase == FAILING:
            # Aborted before the failure is reported, so that its event already shows them ABORTED.
            aborted = await self._abort_elements(ctx, template, plugin)
            superseded = {(r.index, r.retry_attempt) for r in aborted}
            changed = [r for r in changed if (r.index, r.retry_attempt) not in superseded] + aborted
            summary = failure_summary(status.element_phase, status.element_errors, min_successes(array, size), size)
            self._report(ctx, template, changed, error=summary)
            return NodeResult.fail("ArrayNodeFailing", summary, retryable=False)
        self._report(ctx, template, changed)
        if status.array_phase == SUCCEEDING:
            names = list(template.interface.outputs.variables)
            gathered = gather_outputs(names, [])
            for start in range(0, size, _GATHER_SLICE):
                results = await self._element_outputs(ctx, range(start, min(size, start + _GATHER_SLICE)))
                gather_outputs(names, results, gathered)
            await ctx.services.write_literals(ctx.outputs_uri, gathered)
            return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri, is_array=True, target_entity=template.id)
        return NodeResult(Outcome.RUNNING, is_array=True, target_entity=template.id)

    async def _element_outputs(self, ctx: NodeContext, indices: range) -> list[literals_pb2.LiteralMap | None]:
        """The outputs of elements `indices` (None for one that did not succeed), read `_CONCURRENCY` at a
        time and not kept in the engine's literal cache (a large array would only flush it)."""
        storage = ctx.services.storage
        succeeded = int(NodePhase.SUCCEEDED)
        results: list[literals_pb2.LiteralMap | None] = [None] * len(indices)
        semaphore = asyncio.Semaphore(_CONCURRENCY)

        async def read(position: int, index: int) -> None:
            async with semaphore:
                try:
                    results[position] = await storage.read_proto(
                        f"{self._element_dir(ctx, index)}/outputs.pb", literals_pb2.LiteralMap
                    )
                except NotFound:
                    results[position] = literals_pb2.LiteralMap()

        phases = ctx.status.element_phase
        await asyncio.gather(*(read(p, i) for p, i in enumerate(indices) if phases[i] == succeeded))
        return results

    async def _step(
        self,
        ctx: NodeContext,
        plugin: Plugin,
        template: tasks_pb2.TaskTemplate,
        index: int,
        retries: int,
        cache: _ElementCache | None,
    ) -> event_pb2.ExternalResourceInfo | None:
        status = ctx.status
        not_before = status.element_not_before.get(str(index))
        if not_before is not None:
            if not_before > ctx.now:  # waiting out the retry backoff before its next attempt
                ctx.services.wake_later(ctx.state.record_id, not_before - ctx.now)
                return None
            del status.element_not_before[str(index)]
        plugin_phase, version, raw_state, cache_status = _entry(status.element_plugin[index])
        tctx = self._element_context(ctx, template, index, raw_state)
        if cache is not None and plugin_phase < 0 and cache_status == 0:
            cache_status = await self._look_up(ctx, cache, index, tctx)
            if cache_status == catalog_pb2.CACHE_HIT:
                return event_pb2.ExternalResourceInfo(
                    external_id=tctx.generated_name,
                    index=index,
                    retry_attempt=tctx.attempt,
                    phase=core.TaskExecution.SUCCEEDED,
                    cache_status=catalog_pb2.CACHE_HIT,
                )
        try:
            transition: Transition = await plugin.handle(tctx)
        except FlyteplaneError as refused:
            transition = Transition.failure("SystemError", str(refused), retryable=True, system=True)
        waking = self._waking_of(ctx)
        if transition.wakes:
            waking.add(index)
        else:
            waking.discard(index)
        outcome_phase = NodePhase.RUNNING
        error = transition.error
        if transition.phase == Phase.SUCCESS:
            verdict = await completion(ctx, template, tctx.paths)
            if verdict is None or verdict.outcome == Outcome.SUCCESS:
                outcome_phase = NodePhase.SUCCEEDED
            else:
                error = verdict.error
                outcome_phase = (
                    NodePhase.RETRYABLE_FAILURE if verdict.outcome == Outcome.RETRYABLE_FAILURE else NodePhase.FAILED
                )
        elif transition.phase == Phase.RETRYABLE_FAILURE:
            outcome_phase = NodePhase.RETRYABLE_FAILURE
        elif transition.phase == Phase.PERMANENT_FAILURE:
            outcome_phase = NodePhase.FAILED
        if outcome_phase == NodePhase.SUCCEEDED and cache is not None:
            outputs = await ctx.services.read_literals_or_empty(ctx.state, tctx.paths.outputs)
            cache_status, _ = await record(ctx, cache.key(index), outputs, tctx.task_execution_id, array_index=index)
        previous = (plugin_phase, version)
        status.element_plugin[index] = [
            int(transition.phase),
            transition.version,
            base64.b64encode(transition.state).decode(),
            cache_status,
        ]
        if outcome_phase == NodePhase.RETRYABLE_FAILURE:
            await plugin.finalize(tctx)
            if status.element_attempts[index] < retries:
                ident = ctx.state.ident
                delay = ctx.services.settings.retry_delay(
                    ident.project, ident.domain, status.element_attempts[index] + 1
                )
                status.element_attempts[index] += 1
                status.element_plugin[index] = _not_started(cache_status)
                status.element_phase[index] = int(NodePhase.RUNNING)
                if delay > 0:
                    status.element_not_before[str(index)] = time.time() + delay
                    ctx.services.wake_later(ctx.state.record_id, delay)
                else:
                    ctx.wake()
            else:
                status.element_phase[index] = int(NodePhase.FAILED)
        else:
            if outcome_phase.is_terminal:
                await plugin.finalize(tctx)
                # Nothing reads a finished element's plugin state again (it is not aborted, and a retry starts
                # afresh): dropped, so that the record a round saves shrinks as the array progresses.
                status.element_plugin[index][2] = ""
            status.element_phase[index] = int(outcome_phase)
        if status.element_phase[index] == int(NodePhase.FAILED) and len(status.element_errors) < _ERRORS_KEPT:
            message = error.message if error is not None and error.message else "failed without an error message"
            status.element_errors[str(index)] = _clip(message, _ERROR_CHARS)
        if previous == (int(transition.phase), transition.version):
            return None
        event_phase = TASK_EVENT_PHASE.get(transition.phase, core.TaskExecution.UNDEFINED)
        if outcome_phase == NodePhase.SUCCEEDED:
            event_phase = core.TaskExecution.SUCCEEDED
        elif outcome_phase in (NodePhase.FAILED, NodePhase.RETRYABLE_FAILURE):
            event_phase = core.TaskExecution.FAILED
        resource = event_pb2.ExternalResourceInfo(
            external_id=tctx.generated_name,
            index=index,
            retry_attempt=tctx.attempt,
            phase=event_phase,
            logs=[log for log in transition.logs],
            cache_status=cache_status,  # type: ignore[arg-type]
        )
        if error is not None:
            resource.custom_info.update({"error": error.message[:1000]})
        return resource

    async def _look_up(self, ctx: NodeContext, cache: _ElementCache, index: int, tctx: TaskExecutionContext) -> int:
        """Looks element `index` up before its first attempt; on a hit its cached outputs become its
        outputs and it succeeds. Returns the element's cache status."""
        status = ctx.status
        if ctx.state.spec.overwrite_cache:
            status.element_plugin[index] = _not_started(catalog_pb2.CACHE_SKIPPED)
            return catalog_pb2.CACHE_SKIPPED
        try:
            hit = await lookup(ctx, cache.key(index))
        except FlyteplaneError:
            hit, looked_up = None, catalog_pb2.CACHE_LOOKUP_FAILURE
        else:
            looked_up = catalog_pb2.CACHE_MISS
        if hit is not None:
            await ctx.services.write_literals(tctx.paths.outputs, hit.outputs)
            status.element_phase[index] = int(NodePhase.SUCCEEDED)
            looked_up = catalog_pb2.CACHE_HIT
        status.element_plugin[index] = _not_started(looked_up)
        return looked_up

    def _report(
        self,
        ctx: NodeContext,
        template: tasks_pb2.TaskTemplate,
        changed: list[event_pb2.ExternalResourceInfo],
        *,
        error: str = "",
        phase: core.TaskExecution.Phase | None = None,
    ) -> None:
        """The array node's task event, when its phase changed or elements did (`changed`); `phase`
        overrides the one the array's own phase implies (ABORTED when the execution aborts it)."""
        status = ctx.status
        if phase is None:
            phase = {
                EXECUTING: core.TaskExecution.RUNNING,
                SUCCEEDING: core.TaskExecution.SUCCEEDED,
                FAILING: core.TaskExecution.FAILED,
            }.get(status.array_phase, core.TaskExecution.QUEUED)
        marker = [int(phase), status.array_event_version]
        if not changed and status.task_event and status.task_event[0] == int(phase):
            return
        status.array_event_version += 1
        version = status.array_event_version
        tctx = task_context(ctx, template, attempt=0, plugin_state=b"")
        transition = Transition(Phase.RUNNING, version, external_resources=changed)
        if phase in (core.TaskExecution.FAILED, core.TaskExecution.ABORTED):
            transition = Transition(
                Phase.PERMANENT_FAILURE,
                version,
                external_resources=changed,
                error=core.ExecutionError(
                    code="ArrayNodeFailing" if phase == core.TaskExecution.FAILED else "Task Aborted",
                    message=error or "array elements failed",
                    kind=core.ExecutionError.USER,
                ),
            )
        payload = task_event(
            ctx,
            template,
            tctx,
            transition,
            phase,
            plugin_id="k8s-array",
            output_uri=ctx.outputs_uri if phase == core.TaskExecution.SUCCEEDED else "",
        )
        status.task_event = marker
        ctx.touch()
        ctx.state.emit("task", payload)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        self._forget(ctx)
        status = ctx.status
        if not status.element_phase:
            return
        template = self._template(ctx)
        plugin = ctx.services.plugins.plugin_for(template.type, ctx.state.ident.project, ctx.state.ident.domain)
        aborted = await self._abort_elements(ctx, template, plugin)
        if reason != "retrying":
            self._report(ctx, template, aborted, error=reason, phase=core.TaskExecution.ABORTED)

    async def _abort_elements(
        self, ctx: NodeContext, template: tasks_pb2.TaskTemplate, plugin: Plugin
    ) -> list[event_pb2.ExternalResourceInfo]:
        """Aborts every element still running (all at once: none waits on another's abort) and marks it
        ABORTED; one waiting for its next attempt is marked too, one never started stays so. Returns the
        aborted attempts as the array's task event reports them. Plugin aborts are idempotent, so a
        round that fails after some of them only repeats them."""
        status = ctx.status
        semaphore = asyncio.Semaphore(_CONCURRENCY)
        aborted: list[event_pb2.ExternalResourceInfo] = []

        async def stop(index: int, raw_state: str) -> None:
            async with semaphore:
                tctx = self._element_context(ctx, template, index, raw_state)
                await plugin.abort(tctx)
                await plugin.finalize(tctx)
                aborted.append(
                    event_pb2.ExternalResourceInfo(
                        external_id=tctx.generated_name,
                        index=index,
                        retry_attempt=tctx.attempt,
                        phase=core.TaskExecution.ABORTED,
                    )
                )

        stops = []
        for index, phase in enumerate(status.element_phase):
            if phase in _TERMINAL or phase == int(NodePhase.NOT_STARTED):
                continue
            plugin_phase, _, raw_state, _ = _entry(status.element_plugin[index])
            if plugin_phase >= 0 and not Phase(plugin_phase).is_terminal:
                stops.append(stop(index, raw_state))
            status.element_phase[index] = int(NodePhase.ABORTED)
        await asyncio.gather(*stops)
        aborted.sort(key=lambda resource: resource.index)
        ctx.touch()
        return aborted

    def reset(self, ctx: NodeContext) -> None:
        status = ctx.status
        status.array_phase = status.array_size = 0
        status.element_phase, status.element_attempts, status.element_plugin = [], [], []
        status.element_errors, status.element_not_before = {}, {}
        status.task_event = []


def _clip(text: str, limit: int) -> str:
    """`text` within `limit` characters, keeping its start and its end (where a traceback's exception is)."""
    if len(text) <= limit:
        return text
    marker = " [...] "
    head = limit // 3
    return text[:head] + marker + text[len(text) - (limit - head - len(marker)) :]


def _ranges(indices: list[int]) -> str:
    """Sorted indices as ranges: [0-2][5]."""
    parts: list[str] = []
    start = previous = indices[0]
    for index in [*indices[1:], -2]:
        if index == previous + 1:
            previous = index
            continue
        parts.append(f"[{start}]" if start == previous else f"[{start}-{previous}]")
        start = previous = index
    return "".join(parts)


def failure_summary(phases: list[int], errors: dict[str, str], minimum: int, size: int) -> str:
    """The error of an array that can no longer succeed: how many elements failed, succeeded and were
    aborted, then each failed element's index and own message, identical messages grouped by index
    ranges (at most `_LISTED` groups, within `_SUMMARY_CHARS`)."""
    failed = sum(p in _FAILED for p in phases)
    succeeded = sum(p in _SUCCESS for p in phases)
    aborted = sum(p == int(NodePhase.ABORTED) for p in phases)
    lines = [
        f"{failed} of the array's {size} elements failed ({minimum} had to succeed; {succeeded} succeeded, "
        f"{aborted} aborted):"
    ]
    by_message: dict[str, list[int]] = {}
    for key, message in sorted(errors.items(), key=lambda item: int(item[0])):
        by_message.setdefault(message, []).append(int(key))
    listed = 0
    length = len(lines[0])
    for message, indices in by_message.items():
        line = f"{_ranges(indices)}: {message}"
        if len(lines) > _LISTED or length + len(line) + 1 > _SUMMARY_CHARS - 64:  # room for the last line
            break
        lines.append(line)
        listed += len(indices)
        length += len(line) + 1
    if failed > listed:
        lines.append(f"... and {failed - listed} more failed element(s)")
    return "\n".join(lines)
