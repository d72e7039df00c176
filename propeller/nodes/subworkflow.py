"""Sub-workflow nodes: run a workflow of the closure as the node's children; its outputs are the node's."""

from __future__ import annotations

from propeller.nodes.base import NodeContext, NodeHandler, NodeResult, Outcome, ScopeRunner
from propeller.scope import END, Scope, task_key, upstream_of


class SubworkflowNode(NodeHandler):
    counts_for_parallelism = False

    def __init__(self, runner: ScopeRunner) -> None:
        self.runner = runner  # runs the sub-workflow

    def _scope(self, ctx: NodeContext) -> Scope:
        compiled = ctx.scope.sub_workflows[task_key(ctx.node.workflow_node.sub_workflow_ref)]
        return ctx.nested_scope(
            "subworkflow",
            lambda: Scope.of_template(compiled.template, upstream_of(compiled.connections), **ctx.child_placement()),
        )

    async def handle(self, ctx: NodeContext) -> NodeResult:
        scope = self._scope(ctx)
        services = ctx.services
        if not await services.storage.exists(scope.start_outputs_uri):
            await services.write_literals(scope.start_outputs_uri, await ctx.read_inputs())
        runner = self.runner
        outcome = await runner.run_scope(ctx.state, scope, ctx.budget)
        if not outcome.done:
            return NodeResult(Outcome.RUNNING, is_parent=True)
        if outcome.error is not None:
            await runner.abort_scope(ctx.state, scope, "sub-workflow failed", final=False)
            return NodeResult(Outcome.FAILURE, error=outcome.error, is_parent=True)
        await services.write_literals(ctx.outputs_uri, await runner.read_outputs(ctx.state, scope, END))
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri, is_parent=True)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        await self.runner.abort_scope(ctx.state, self._scope(ctx), reason, final=True)
