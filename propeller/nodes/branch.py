"""Branch nodes: pick the case whose condition holds and run that one node as the branch's child."""

from __future__ import annotations

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import workflow_pb2
from propeller.data.branch import select_branch
from propeller.data.errors import BranchUserError
from propeller.nodes.base import NodeContext, NodeHandler, NodeResult, Outcome, ScopeRunner
from propeller.scope import Scope
from propeller.status import NodePhase


class BranchNode(NodeHandler):
    counts_for_parallelism = False

    def __init__(self, runner: ScopeRunner) -> None:
        self.runner = runner  # runs the chosen child

    @staticmethod
    def _children(if_else: workflow_pb2.IfElseBlock) -> list[workflow_pb2.Node]:
        nodes = [if_else.case.then_node, *(c.then_node for c in if_else.other)]
        if if_else.HasField("else_node"):
            nodes.append(if_else.else_node)
        return nodes

    def _scope(self, ctx: NodeContext, child: workflow_pb2.Node) -> Scope:
        upstream = {child.id: list(ctx.scope.upstream.get(child.id, child.upstream_node_ids))}
        placement = ctx.child_placement()
        placement["outer"] = ctx.scope  # the child reads its upstream nodes' outputs from the branch's scope
        return Scope(nodes={child.id: child}, upstream=upstream, **placement)

    async def handle(self, ctx: NodeContext) -> NodeResult:
        if_else = ctx.node.branch_node.if_else
        if not ctx.status.branch_child:
            try:
                chosen = select_branch(if_else, await ctx.read_inputs())
            except BranchUserError as error:
                return NodeResult.fail(error.code, error.message)
            ctx.status.branch_child = chosen.id
            ctx.touch()
        child = next(n for n in self._children(if_else) if n.id == ctx.status.branch_child)
        scope = ctx.nested_scope(f"branch:{child.id}", lambda: self._scope(ctx, child))
        await self.runner.run_scope(ctx.state, scope, ctx.budget)
        status = ctx.state.nodes.get(scope.key(child.id))
        if status is None or not status.node_phase.is_terminal:
            return NodeResult(Outcome.RUNNING)
        if status.node_phase in (NodePhase.SUCCEEDED, NodePhase.RECOVERED):
            outputs = await ctx.services.read_literals_or_empty(ctx.state, scope.outputs_uri(child.id, status))
            await ctx.services.write_literals(ctx.outputs_uri, outputs)
            return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)
        failure = core.ExecutionError.FromString(status.error) if status.error else None
        return NodeResult(Outcome.FAILURE, error=failure)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        if ctx.status.branch_child:
            child = next(n for n in self._children(ctx.node.branch_node.if_else) if n.id == ctx.status.branch_child)
            await self.runner.abort_scope(ctx.state, self._scope(ctx, child), reason, final=True)

    def reset(self, ctx: NodeContext) -> None:
        ctx.status.branch_child = ""
