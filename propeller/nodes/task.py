"""Task nodes: drive the task's plugin, report its phases as task events, and run dynamic workflows.

A task that writes futures.pb instead of outputs.pb is a dynamic parent: its DynamicJobSpec is
compiled with the same compiler admin uses, the compiled closure is stored beside the outputs, and
the resulting graph runs as this node's children; their end-node outputs become the node's outputs.
"""

from __future__ import annotations

import time

from google.protobuf import struct_pb2

from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.core import (
    catalog_pb2,
    compiler_pb2,
    dynamic_job_pb2,
    errors_pb2,
    identifier_pb2,
    literals_pb2,
    tasks_pb2,
)
from flyteidl_py.core import (
    execution_pb2 as core,
)
from flyteidl_py.event import event_pb2
from flyteplane.errors import FlyteplaneError
from plugins.core import DataPaths, Phase, TaskExecutionContext, Transition, reads_inputs_in_memory
from propeller.compiler import compile_task, compile_workflow
from propeller.ids import fixed_length_id, raw_output_shard
from propeller.nodes.base import AttemptLimits, NodeContext, NodeHandler, NodeResult, Outcome, ScopeRunner
from propeller.nodes.cache import after_success, before_run, cacheable, keep_reservation
from propeller.scope import Scope, task_key, upstream_of
from propeller.services import Services
from propeller.store import ExecutionState

TASK_EVENT_PHASE = {
    Phase.WAITING_FOR_RESOURCES: core.TaskExecution.WAITING_FOR_RESOURCES,
    Phase.QUEUED: core.TaskExecution.QUEUED,
    Phase.INITIALIZING: core.TaskExecution.INITIALIZING,
    Phase.RUNNING: core.TaskExecution.RUNNING,
    Phase.SUCCESS: core.TaskExecution.SUCCEEDED,
    Phase.RETRYABLE_FAILURE: core.TaskExecution.FAILED,
    Phase.PERMANENT_FAILURE: core.TaskExecution.FAILED,
}
DYNAMIC_EXECUTING = 2


def task_template(ctx: NodeContext, reference: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate:
    template = ctx.scope.tasks.get(task_key(reference))
    if template is None:
        raise FlyteplaneError(f"task {task_key(reference)} is not in the compiled closure")
    return template


def task_context(
    ctx: NodeContext,
    template: tasks_pb2.TaskTemplate,
    *,
    attempt: int,
    plugin_state: bytes,
    output_dir: str | None = None,
    array_index: int | None = None,
    inputs_uri: str | None = None,
) -> TaskExecutionContext:
    """The plugin's view of one attempt (also used by array nodes for their elements)."""
    state, services = ctx.state, ctx.services
    spec = state.spec
    e = state.ident
    unique = ctx.unique_id if array_index is None else f"{ctx.unique_id}-n{array_index}"
    raw_base = spec.raw_output_data_config.output_location_prefix or services.settings.raw_output_prefix
    # flytekit treats a file:// blob URI as a local path and then cannot find the file: hand it plain
    # paths for user data on this machine (metadata files keep their URIs; flytekit reads those fine).
    raw_base = raw_base.removeprefix("file://")
    raw_id = fixed_length_id(50, [e.name, unique, str(attempt)])
    raw = f"{raw_base.rstrip('/')}/{raw_output_shard(raw_id)}/{raw_id}"
    previous = ""
    if attempt > 0:
        prev_id = fixed_length_id(50, [e.name, unique, str(attempt - 1)])
        previous = f"{raw_base.rstrip('/')}/{raw_output_shard(prev_id)}/{prev_id}/_flytecheckpoints"
    env = {ev.key: ev.value for ev in spec.envs.values}
    env.update(
        FLYTE_INTERNAL_EXECUTION_WORKFLOW=state.closure.primary.template.id.name,
        FLYTE_INTERNAL_EXECUTION_LAUNCHPLAN=state.launch_plan.name,
    )
    paths = DataPaths(
        inputs=inputs_uri or ctx.inputs_uri,
        output_prefix=output_dir or ctx.output_dir,
        raw_output_prefix=raw,
        checkpoint_prefix=f"{raw}/_flytecheckpoints",
        previous_checkpoint_prefix=previous,
    )
    return TaskExecutionContext(
        task_execution_id=identifier_pb2.TaskExecutionIdentifier(
            task_id=template.id,
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=e, node_id=ctx.unique_id),
            retry_attempt=attempt,
        ),
        template=template,
        paths=paths,
        storage=services.storage,
        plugin_state=plugin_state,
        environment=env,
        labels=dict(spec.labels.values),
        annotations=dict(spec.annotations.values),
        interruptible=spec.interruptible.value if spec.HasField("interruptible") else template.metadata.interruptible,
        max_attempts=(template.metadata.retries.retries + 1) if template.metadata.HasField("retries") else 1,
        security_context=spec.security_context,
        resources=template.container.resources if template.HasField("container") else None,
        array_index=array_index,
        wake=lambda: services.wake(state.record_id),
        inputs_reader=lambda: services.read_literals(state, paths.inputs),
        # An array element's outputs are read back from the store (the array gathers them): written now.
        outputs_writer=(
            (lambda outputs: _write_outputs(services, state, tctx_paths=paths, outputs=outputs))
            if array_index is None
            else (lambda outputs: services.write_literals(paths.outputs, outputs))
        ),
    )


async def _write_outputs(
    services: Services, state: ExecutionState, *, tctx_paths: DataPaths, outputs: literals_pb2.LiteralMap
) -> None:
    """An in-process plugin's outputs (TaskExecutionContext.write_outputs): queued and written with
    the round's other queued objects before it saves, and known to exist without looking (see
    `completion`)."""
    services.write_literals_later(state, tctx_paths.outputs, outputs)


def task_event(
    ctx: NodeContext,
    template: tasks_pb2.TaskTemplate,
    tctx: TaskExecutionContext,
    transition: Transition,
    phase: int,
    *,
    plugin_id: str,
    output_uri: str = "",
) -> bytes:
    now = time.time()
    from propeller.executor import timestamp

    event = event_pb2.TaskExecutionEvent(
        task_id=template.id,
        parent_node_execution_id=tctx.task_execution_id.node_execution_id,
        retry_attempt=tctx.attempt,
        phase=phase,  # type: ignore[arg-type]
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


async def completion(ctx: NodeContext, template: tasks_pb2.TaskTemplate, paths: DataPaths) -> NodeResult | None:
    """After a plugin reports success: the task's own verdict from the files it wrote (None = dynamic)."""
    storage = ctx.services.storage
    if ctx.services.written_in_memory(paths.outputs):
        # The plugin wrote its outputs through the engine (an in-process plugin: no task process
        # that could also leave error.pb or futures.pb).
        return NodeResult(Outcome.SUCCESS, output_uri=paths.outputs)
    has_futures, has_error, has_outputs = await storage.exist([paths.futures, paths.error, paths.outputs])
    if has_futures:
        return None
    if has_error:
        document = await storage.read_proto(paths.error, errors_pb2.ErrorDocument)
        error = document.error
        kind = core.ExecutionError.SYSTEM if error.origin == core.ExecutionError.SYSTEM else core.ExecutionError.USER
        result = NodeResult.fail(
            error.code, error.message, retryable=error.kind == errors_pb2.ContainerError.RECOVERABLE
        )
        assert result.error is not None
        result.error.kind = kind
        return result
    if template.interface.outputs.variables and not has_outputs:
        return NodeResult.fail(
            "OutputsNotFound", "Outputs not generated by task execution", retryable=True, system=True
        )
    return NodeResult(Outcome.SUCCESS, output_uri=paths.outputs)


class TaskNode(NodeHandler):
    counts_for_parallelism = True

    def __init__(self, runner: ScopeRunner) -> None:
        self.runner = runner  # runs the dynamic workflow of a task that wrote futures.pb

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
        """The task template's retries and timeout (the node's own metadata, when set, comes first)."""
        metadata = self._template(ctx).metadata
        return AttemptLimits(
            retries=metadata.retries.retries if metadata.HasField("retries") else 0,
            timeout=metadata.timeout.ToTimedelta().total_seconds() if metadata.HasField("timeout") else 0.0,
        )

    def _template(self, ctx: NodeContext) -> tasks_pb2.TaskTemplate:
        return task_template(ctx, ctx.node.task_node.reference_id)

    async def handle(self, ctx: NodeContext) -> NodeResult:
        template = self._template(ctx)
        status = ctx.status
        if status.dynamic_phase == DYNAMIC_EXECUTING:
            return await self._run_dynamic(ctx, template)
        state = ctx.state
        caching = cacheable(template, ctx)
        if caching and status.plugin_phase < 0 and status.cache_status in (0, catalog_pb2.CACHE_MISS):
            try:
                replaced = await before_run(ctx, template)
            except FlyteplaneError as error:
                return NodeResult.fail("CatalogError", f"cache lookup failed: {error}", system=True, retryable=True)
            ctx.touch()
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
            return await self._start_dynamic(ctx, template, tctx.paths)
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

    # ---- dynamic ---------------------------------------------------------------------------------

    async def _start_dynamic(self, ctx: NodeContext, template: tasks_pb2.TaskTemplate, paths: DataPaths) -> NodeResult:
        storage = ctx.services.storage
        from propeller.data.dynamic import dynamic_workflow_template

        spec = await storage.read_proto(paths.futures, dynamic_job_pb2.DynamicJobSpec)
        e = ctx.state.ident
        try:
            workflow, tasks, sub_workflows = dynamic_workflow_template(spec, ctx.node.id, template, e.project, e.domain)
            compiled_tasks = [compile_task(t) for t in tasks]
            closure = compile_workflow(workflow, sub_workflows, compiled_tasks, [])
        except FlyteplaneError as error:
            return NodeResult.fail("DynamicWorkflowBuildFailed", str(error))
        uri = f"{ctx.output_dir}/dynamic_compiled.pb"
        await storage.write_proto(uri, closure)
        ctx.status.dynamic_closure_uri = uri
        ctx.status.dynamic_phase = DYNAMIC_EXECUTING
        ctx.touch()
        metadata = event_pb2.TaskNodeMetadata(
            dynamic_workflow=event_pb2.DynamicWorkflowNodeMetadata(
                id=closure.primary.template.id, compiled_workflow=closure, dynamic_job_spec_uri=paths.futures
            )
        )
        return NodeResult(Outcome.DYNAMIC_RUNNING, task_node_metadata=metadata, is_parent=True, is_dynamic=True)

    def dynamic_scope(self, ctx: NodeContext, closure: compiler_pb2.CompiledWorkflowClosure) -> Scope:
        tasks = dict(ctx.scope.tasks)
        tasks.update({task_key(t.template.id): t.template for t in closure.tasks})
        return Scope.of_template(
            closure.primary.template,
            upstream_of(closure.primary.connections),
            key_prefix=f"{ctx.key}/{ctx.status.attempts}/",
            data_root=ctx.output_dir,
            top_level=False,
            parent_unique_id=ctx.unique_id,
            parent_attempt=ctx.status.attempts,
            outer=None,
            in_dynamic_chain=True,
            tasks=tasks,
            sub_workflows={task_key(s.template.id): s for s in closure.sub_workflows} | dict(ctx.scope.sub_workflows),
        )

    async def _run_dynamic(self, ctx: NodeContext, template: tasks_pb2.TaskTemplate) -> NodeResult:
        services = ctx.services
        scope = ctx.known_scope("dynamic")
        if scope is None:
            closure = await services.storage.read_proto(
                ctx.status.dynamic_closure_uri, compiler_pb2.CompiledWorkflowClosure
            )
            scope = ctx.nested_scope("dynamic", lambda: self.dynamic_scope(ctx, closure))
        start = scope.start_outputs_uri
        if not await services.storage.exists(start):
            await services.write_literals(start, literals_pb2.LiteralMap())
        runner = self.runner
        outcome = await runner.run_scope(ctx.state, scope, ctx.budget)
        if not outcome.done:
            return NodeResult(Outcome.DYNAMIC_RUNNING, is_parent=True, is_dynamic=True)
        if outcome.error is not None:
            await runner.abort_scope(ctx.state, scope, "dynamic workflow failed", final=False)
            return NodeResult(Outcome.FAILURE, error=outcome.error, is_parent=True, is_dynamic=True)
        end_outputs = await runner.read_outputs(ctx.state, scope, "end-node")
        await services.write_literals(ctx.outputs_uri, end_outputs)
        metadata = None
        if cacheable(template, ctx):  # a cached dynamic task records what its sub-workflow produced
            source = task_context(ctx, template, attempt=ctx.status.attempts, plugin_state=b"").task_execution_id
            metadata = await after_success(ctx, template, source)
        return NodeResult(
            Outcome.SUCCESS,
            output_uri=ctx.outputs_uri,
            is_parent=True,
            is_dynamic=True,
            target_entity=template.id,
            task_node_metadata=metadata,
        )

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        template = self._template(ctx)
        status = ctx.status
        if status.dynamic_phase == DYNAMIC_EXECUTING and status.dynamic_closure_uri:
            closure = await ctx.services.storage.read_proto(
                status.dynamic_closure_uri, compiler_pb2.CompiledWorkflowClosure
            )
            await self.runner.abort_scope(
                ctx.state, self.dynamic_scope(ctx, closure), reason, final=reason != "retrying"
            )
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
        status.dynamic_phase, status.dynamic_closure_uri = 0, ""
