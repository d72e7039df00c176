"""Dynamic workflows: the graph a task node runs as its children after the task wrote futures.pb.

A task that writes futures.pb instead of outputs.pb is a dynamic parent: its DynamicJobSpec is
compiled with the same compiler admin uses, the compiled closure is stored beside the outputs, and
the resulting graph runs as the node's children; their end-node outputs become the node's outputs.
The task node handler hands its node to `DynamicWorkflows` once the task wrote futures.pb and for as
long as the dynamic workflow runs (semantics §3.11.9).
"""

from __future__ import annotations

from flyteidl_py.core import compiler_pb2, dynamic_job_pb2, literals_pb2, tasks_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import FlyteplaneError
from propeller.compiler import compile_task, compile_workflow
from propeller.data.dynamic import dynamic_workflow_template
from propeller.nodes.attempt import task_context
from propeller.nodes.base import NodeContext, NodeResult, Outcome, ScopeRunner
from propeller.nodes.cache import after_success, cacheable
from propeller.scope import END, Scope, task_key, upstream_of

# NodeStatus.dynamic_phase of a node whose dynamic workflow runs (0: none).
DYNAMIC_EXECUTING = 2


class DynamicWorkflows:
    """Builds, runs and aborts task nodes' dynamic workflows; a collaborator of the task node handler."""

    def __init__(self, runner: ScopeRunner) -> None:
        self.runner = runner  # runs the dynamic workflows

    @staticmethod
    def executing(ctx: NodeContext) -> bool:
        """Whether the node's current attempt runs its dynamic workflow (the task itself is done)."""
        return ctx.status.dynamic_phase == DYNAMIC_EXECUTING

    async def start(self, ctx: NodeContext, template: tasks_pb2.TaskTemplate, futures_uri: str) -> NodeResult:
        """Compile the workflow the task's futures.pb describes and store it; it runs from the next call on."""
        storage = ctx.services.storage
        spec = await storage.read_proto(futures_uri, dynamic_job_pb2.DynamicJobSpec)
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
                id=closure.primary.template.id, compiled_workflow=closure, dynamic_job_spec_uri=futures_uri
            )
        )
        return NodeResult(Outcome.DYNAMIC_RUNNING, task_node_metadata=metadata, is_parent=True, is_dynamic=True)

    @staticmethod
    def scope(ctx: NodeContext, closure: compiler_pb2.CompiledWorkflowClosure) -> Scope:
        """The dynamic workflow's graph: it sees its own tasks and sub-workflows besides the enclosing ones,
        and no enclosing nodes (its inputs were bound when it was built)."""
        placement = ctx.child_placement()
        placement["in_dynamic_chain"] = True
        placement["tasks"] = dict(ctx.scope.tasks) | {task_key(t.template.id): t.template for t in closure.tasks}
        placement["sub_workflows"] = {task_key(s.template.id): s for s in closure.sub_workflows} | dict(
            ctx.scope.sub_workflows
        )
        return Scope.of_template(closure.primary.template, upstream_of(closure.primary.connections), **placement)

    async def run(self, ctx: NodeContext, template: tasks_pb2.TaskTemplate) -> NodeResult:
        """Advance the dynamic workflow; once it succeeded its outputs are the node's."""
        services = ctx.services
        scope = ctx.known_scope("dynamic")
        if scope is None:
            closure = await services.storage.read_proto(
                ctx.status.dynamic_closure_uri, compiler_pb2.CompiledWorkflowClosure
            )
            scope = ctx.nested_scope("dynamic", lambda: self.scope(ctx, closure))
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
        end_outputs = await runner.read_outputs(ctx.state, scope, END)
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
        """Abort the running dynamic workflow's nodes (recorded as aborted unless the node is retried)."""
        closure = await ctx.services.storage.read_proto(
            ctx.status.dynamic_closure_uri, compiler_pb2.CompiledWorkflowClosure
        )
        await self.runner.abort_scope(ctx.state, self.scope(ctx, closure), reason, final=reason != "retrying")

    @staticmethod
    def reset(ctx: NodeContext) -> None:
        ctx.status.dynamic_phase, ctx.status.dynamic_closure_uri = 0, ""
