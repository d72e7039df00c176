"""Gate nodes: wait for a duration, an approval or a signal's value (set through admin's SignalService)."""

from __future__ import annotations

from flyteidl_py.core import identifier_pb2, literals_pb2, types_pb2
from propeller.nodes.base import POLL_SECONDS, NodeContext, NodeHandler, NodeResult, Outcome


class GateNode(NodeHandler):
    counts_for_parallelism = False

    async def handle(self, ctx: NodeContext) -> NodeResult:
        gate = ctx.node.gate_node
        kind = gate.WhichOneof("condition")
        if kind == "sleep":
            duration = gate.sleep.duration.ToTimedelta().total_seconds()
            remaining = duration - (ctx.now - ctx.status.attempt_started_at)
            if remaining > 0:
                return NodeResult(Outcome.RUNNING, wake_after=remaining)
            await ctx.services.write_literals(ctx.outputs_uri, await ctx.read_inputs())
            return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)
        admin = ctx.services.admin
        if admin is None:
            return NodeResult.fail("GateUnavailable", "no admin connection to read signals from", system=True)
        signal_id = gate.approve.signal_id if kind == "approve" else gate.signal.signal_id
        literal_type = types_pb2.LiteralType(simple=types_pb2.BOOLEAN) if kind == "approve" else gate.signal.type
        ident = identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=ctx.state.ident)
        signal = await admin.get_or_create_signal(ident, literal_type)
        if not signal.HasField("value"):
            return NodeResult(Outcome.RUNNING, wake_after=POLL_SECONDS)
        if kind == "approve":
            value = signal.value.scalar.primitive
            if value.WhichOneof("value") != "boolean":
                return NodeResult.fail("UnknownSignalValue", "approval signals must be booleans")
            if not value.boolean:
                return NodeResult.fail("ReceivedRejectSignal", f"received reject signal for [{signal_id}]")
            outputs = await ctx.read_inputs()
        else:
            outputs = literals_pb2.LiteralMap(literals={gate.signal.output_variable_name: signal.value})
        await ctx.services.write_literals(ctx.outputs_uri, outputs)
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)
