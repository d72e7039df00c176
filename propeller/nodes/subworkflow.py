"""Sub-workflow nodes: run a workflow of the closure as the node's children; its outputs are the node's.

A sub-workflow that fails runs its own failure node, if it has one, before the node fails (with the
sub-workflow's error, or the failure node's if that fails too), as the workflow itself does.
"""

from __future__ import annotations

from flyteidl_py.core import execution_pb2 as core
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

    def _failure_scope(self, ctx: NodeContext, scope: Scope) -> Scope:
        error = core.ExecutionError.FromString(ctx.status.error)
        return ctx.nested_scope("failure", lambda: scope.failure_scope(error))

    async def handle(self, ctx: NodeContext) -> NodeResult:
        scope = self._scope(ctx)
        if ctx.status.handling_failure_node:
            return await self._run_failure_node(ctx, scope)
        services = ctx.services
        if not await services.storage.exists(scope.start_outputs_uri):
            await services.write_literals(scope.start_outputs_uri, await ctx.read_inputs())
        runner = self.runner
        outcome = await runner.run_scope(ctx.state, scope, ctx.budget)
        if not outcome.done:
            return NodeResult(Outcome.RUNNING, is_parent=True)
        if outcome.error is not None:
            await runner.abort_scope(ctx.state, scope, "sub-workflow failed", final=False)
            if scope.failure_node is None:
                return NodeResult(Outcome.FAILURE, error=outcome.error, is_parent=True)
            # Persisted with the round: a resumed engine goes on with the failure node, never the graph.
            ctx.status.handling_failure_node = True
            ctx.status.error = outcome.error.SerializeToString()
            ctx.touch()
            return await self._run_failure_node(ctx, scope)
        await services.write_literals(ctx.outputs_uri, await runner.read_outputs(ctx.state, scope, END))
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri, is_parent=True)

    async def _run_failure_node(self, ctx: NodeContext, scope: Scope) -> NodeResult:
        failure = self._failure_scope(ctx, scope)
        outcome = await self.runner.run_scope(ctx.state, failure, ctx.budget)
        if not outcome.done:
            return NodeResult(Outcome.RUNNING, is_parent=True)
        error = outcome.error or failure.handled_error
        if outcome.timed_out:
            error = core.ExecutionError(code="TimedOut", message="FailureNode Timed-out", kind=core.ExecutionError.USER)
        return NodeResult(Outcome.FAILURE, error=error, is_parent=True)

    def reset(self, ctx: NodeContext) -> None:
        ctx.status.handling_failure_node = False

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        scope = self._scope(ctx)
        await self.runner.abort_scope(ctx.state, scope, reason, final=True)
        if ctx.status.handling_failure_node:
            await self.runner.abort_scope(ctx.state, self._failure_scope(ctx, scope), reason, final=True)
