"""The start and end nodes: where a graph's inputs enter and its outputs leave."""

from __future__ import annotations

from propeller.nodes.base import NodeContext, NodeHandler, NodeResult, Outcome


class StartNode(NodeHandler):
    """Succeeds at once; its outputs (the graph's inputs) were written when the graph started."""

    counts_for_parallelism = False

    async def handle(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.scope.start_outputs_uri)


class EndNode(NodeHandler):
    """Copies its resolved inputs (the graph's output bindings) to its outputs."""

    counts_for_parallelism = False

    async def handle(self, ctx: NodeContext) -> NodeResult:
        inputs = await ctx.read_inputs()
        await ctx.services.write_literals(ctx.outputs_uri, inputs)
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)
