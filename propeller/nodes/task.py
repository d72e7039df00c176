"""Task nodes: drive the task's plugin, report its phases as task events, cache its outputs.

A task that writes futures.pb is a dynamic parent: `propeller.nodes.dynamic` then runs the workflow it
described as the node's children.
"""

from __future__ import annotations

import logging

from flyteidl_py.core import catalog_pb2, tasks_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.event import event_pb2
from flyteplane.errors import FlyteplaneError
from plugins.core import Phase, TaskExecutionContext, Transition, reads_inputs_in_memory
from propeller.events import TASK_EVENT_PHASE, task_event
from propeller.nodes.attempt import completion, task_context, task_template
from propeller.nodes.base import AttemptLimits, NodeContext, NodeHandler, NodeResult, Outcome
from propeller.nodes.cache import after_success, before_run, cacheable, keep_reservation
from propeller.nodes.dynamic import DynamicWorkflows

log = logging.getLogger("flyteplane.propeller")


class TaskNode(NodeHandler):
    counts_for_parallelism = True

    def __init__(self, dynamic: DynamicWorkflows) -> None:
        self.dynamic = dynamic  # takes over once the task wrote futures.pb

    def inputs_in_memory(self, ctx: NodeContext) -> bool:
        """Whether the node's inputs.pb may be written while the round goes on: only for a plugin that
        declares it reads its inputs through the engine (`inputs_in_memory`, e.g. echo) and when no
        cache lookup reads them first."""
        template = self._template(ctx)
        if cacheable(template, ctx):
            return False
        try:
            plugin = ctx.services.plugins.plugin_for(template.type, ctx.state.ident.project, ctx.state.ident.domain)
        except FlyteplaneError:
            return False
        return reads_inputs_in_memory(plugin)

    def limits(self, ctx: NodeContext) -> AttemptLimits:
        """The task template's retries and timeout (the node's own metadata, when set, comes first); its
        retries wait as the retry backoff policy says."""
        metadata = self._template(ctx).metadata
        return AttemptLimits(
            retries=metadata.retries.retries if metadata.HasField("retries") else 0,
            timeout=metadata.timeout.ToTimedelta().total_seconds() if metadata.HasField("timeout") else 0.0,
            backs_off=True,
        )

    def _template(self, ctx: NodeContext) -> tasks_pb2.TaskTemplate:
        return task_template(ctx, ctx.node.task_node.reference_id)

    async def handle(self, ctx: NodeContext) -> NodeResult:
        template = self._template(ctx)
        status = ctx.status
        if self.dynamic.executing(ctx):
            return await self.dynamic.run(ctx, template)
        state = ctx.state
        caching = cacheable(template, ctx)
        if caching and status.plugin_phase < 0 and status.cache_status in (0, catalog_pb2.CACHE_MISS):
            try:
                replaced = await before_run(ctx, template)
            except FlyteplaneError as error:
                return NodeResult.fail("CatalogError", f"cache lookup failed: {error}", system=True, retryable=True)
            ctx.touch()
            cache_status = catalog_pb2.CatalogCacheStatus.Name(status.cache_status)
            log.info("cache lookup: %s, task %s", cache_status, template.id.name)
            if ctx.services.metrics is not None:
                ctx.services.metrics.cache_lookups.labels(cache_status).inc()
            if replaced is not None:
                return replaced
        try:
            plugin = ctx.services.plugins.plugin_for(template.type, state.ident.project, state.ident.domain)
        except FlyteplaneError as error:
            return NodeResult.fail("UnsupportedTaskType", str(error), system=True)
        tctx = task_context(ctx, template, attempt=status.attempts, plugin_state=status.plugin_state)
        transition = await plugin.handle(tctx)
        status.plugin_state = transition.state
        status.plugin_phase, status.plugin_version = int(transition.phase), transition.version
        ctx.touch()
        result: NodeResult | None
        if transition.phase == Phase.SUCCESS:
            result = await completion(ctx, template, tctx.paths)
            if result is not None and result.outcome != Outcome.SUCCESS:
                transition = Transition(
                    Phase.PERMANENT_FAILURE if result.outcome == Outcome.FAILURE else Phase.RETRYABLE_FAILURE,
                    transition.version,
                    error=result.error,
                    logs=transition.logs,
                )
        else:
            result = self._map(transition)
            if caching and template.metadata.cache_serializable and result.outcome == Outcome.RUNNING:
                result.wake_after = await keep_reservation(ctx, template)
        self._report(ctx, template, tctx, transition, plugin.id, result)
        if result is None:  # the task wrote futures.pb: it is a dynamic parent
            await plugin.finalize(tctx)
            return await self.dynamic.start(ctx, template, tctx.paths.futures)
        result.target_entity = template.id
        if result.outcome == Outcome.SUCCESS:
            metadata = event_pb2.TaskNodeMetadata(checkpoint_uri=tctx.paths.checkpoint_prefix)
            if caching:
                metadata.MergeFrom(await after_success(ctx, template, tctx.task_execution_id))
            result.task_node_metadata = metadata
            if template.metadata.generates_deck.value and await ctx.services.storage.exists(tctx.paths.deck):
                result.deck_uri = tctx.paths.deck
        return result

    @staticmethod
    def _map(transition: Transition) -> NodeResult:
        if transition.phase == Phase.RETRYABLE_FAILURE:
            return NodeResult(Outcome.RETRYABLE_FAILURE, error=transition.error)
        if transition.phase == Phase.PERMANENT_FAILURE:
            return NodeResult(Outcome.FAILURE, error=transition.error)
        return NodeResult(Outcome.RUNNING)

    def _report(
        self,
        ctx: NodeContext,
        template: tasks_pb2.TaskTemplate,
        tctx: TaskExecutionContext,
        transition: Transition,
        plugin_id: str,
        result: NodeResult | None,
    ) -> None:
        phase = TASK_EVENT_PHASE.get(transition.phase)
        if phase is None:
            return
        if result is None:  # dynamic parent: the task itself succeeded
            phase = core.TaskExecution.SUCCEEDED
        marker = [int(phase), transition.version]
        if ctx.status.task_event == marker:
            return
        ctx.status.task_event = marker
        output_uri = tctx.paths.outputs if result is not None and result.outcome == Outcome.SUCCESS else ""
        ctx.state.emit(
            "task", task_event(ctx, template, tctx, transition, phase, plugin_id=plugin_id, output_uri=output_uri)
        )

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        template = self._template(ctx)
        status = ctx.status
        if self.dynamic.executing(ctx) and status.dynamic_closure_uri:
            await self.dynamic.abort(ctx, reason)
            return
        if status.plugin_phase < 0 or Phase(status.plugin_phase).is_terminal:
            return
        plugin = ctx.services.plugins.plugin_for(template.type, ctx.state.ident.project, ctx.state.ident.domain)
        tctx = task_context(ctx, template, attempt=status.attempts, plugin_state=status.plugin_state)
        await plugin.abort(tctx)
        if reason != "retrying":
            aborted = Transition(
                Phase.PERMANENT_FAILURE,
                status.plugin_version + 1,
                error=core.ExecutionError(code="Task Aborted", message=reason),
            )
            ctx.state.emit(
                "task", task_event(ctx, template, tctx, aborted, core.TaskExecution.ABORTED, plugin_id=plugin.id)
            )

    async def finalize(self, ctx: NodeContext) -> None:
        status = ctx.status
        if status.plugin_phase < 0:
            return
        template = self._template(ctx)
        plugin = ctx.services.plugins.plugin_for(template.type, ctx.state.ident.project, ctx.state.ident.domain)
        await plugin.finalize(task_context(ctx, template, attempt=status.attempts, plugin_state=status.plugin_state))

    def reset(self, ctx: NodeContext) -> None:
        status = ctx.status
        status.plugin_phase, status.plugin_version, status.plugin_state = -1, 0, b""
        status.task_event = []
        self.dynamic.reset(ctx)
