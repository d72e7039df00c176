"""The `echo` backend: a task whose outputs are its inputs, without any process (Flyte's echo plugin).

One `handle` writes the inputs as `outputs.pb` and succeeds; calling it again writes the same
outputs again, so it is idempotent. A task without inputs (no inputs.pb) gets an empty LiteralMap.
The outputs carry the names of the task's declared outputs: flytekit's `Echo` declares input `a`
and output `o0`, and downstream nodes bind to `o0` (see `output_names`).
As an array element (map task), it echoes element `array_index` of each collection input, as a
map task's element would compute it from the whole-list inputs.pb.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from flyteidl_py.core import interface_pb2, literals_pb2
from plugins.core import Phase, TaskExecutionContext, Transition

_CACHED_INPUTS = 8


class EchoPlugin:
    """Serves task type `echo`."""

    id = "echo"
    task_types: tuple[str, ...] = ("echo",)
    # Reads its inputs and writes its outputs only through the context (read_inputs/write_outputs),
    # never as files: the engine may write them while the round goes on (propeller.services).
    inputs_in_memory = True

    def __init__(self) -> None:
        # An array's inputs.pb by URI (written once per node attempt, never changed in place).
        self._inputs: dict[str, asyncio.Future[literals_pb2.LiteralMap]] = {}

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        try:
            renamed = output_names(ctx.template.interface)
        except ValueError as exc:
            return Transition.failure("EchoInterface", str(exc), retryable=False)
        if ctx.array_index is not None:
            inputs = await self._array_inputs(ctx)
            element = literals_pb2.LiteralMap()
            for name, literal in inputs.literals.items():
                is_list = literal.WhichOneof("value") == "collection"
                picked = literal.collection.literals[ctx.array_index] if is_list else literal
                element.literals[renamed.get(name, name)].CopyFrom(picked)
            await ctx.storage.write_proto(ctx.paths.outputs, element)
        else:
            inputs = await ctx.read_inputs()
            outputs = literals_pb2.LiteralMap()
            for name, literal in inputs.literals.items():
                outputs.literals[renamed.get(name, name)].CopyFrom(literal)
            await ctx.write_outputs(outputs)
        return Transition(Phase.SUCCESS, reason="outputs are the inputs")

    async def _array_inputs(self, ctx: TaskExecutionContext) -> literals_pb2.LiteralMap:
        """The whole array's inputs, read once for all its elements rather than once per element
        (decoding a 100,000-item list for each of 100,000 elements would take hours); elements asking
        at the same time share the one read."""
        uri = ctx.paths.inputs
        pending = self._inputs.get(uri)
        if pending is None:
            while len(self._inputs) >= _CACHED_INPUTS:
                self._inputs.pop(next(iter(self._inputs)))
            pending = self._inputs[uri] = asyncio.ensure_future(ctx.storage.read_proto(uri, literals_pb2.LiteralMap))
        try:
            return await asyncio.shield(pending)
        except BaseException:
            if pending.done() and self._inputs.get(uri) is pending:
                del self._inputs[uri]  # a failed read is not remembered
            raise

    async def abort(self, ctx: TaskExecutionContext) -> None:
        return None

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


def output_names(interface: interface_pb2.TypedInterface) -> dict[str, str]:
    """Which output each input is written as, for inputs whose output has another name.

    Same names map to themselves. Otherwise, as Flyte's echo plugin does, one input maps onto the
    one output; more cannot be paired, because an interface's variables carry no order (a protobuf
    map) and flytekit names echo outputs `o0`, `o1`, ... by input position. An interface that
    declares no outputs leaves the inputs' names as they are.
    """
    inputs, outputs = set(interface.inputs.variables), set(interface.outputs.variables)
    if not outputs or inputs == outputs:
        return {}
    if len(inputs) != len(outputs):
        raise ValueError(
            f"an echo task needs as many outputs as inputs: inputs {sorted(inputs)}, outputs {sorted(outputs)}"
        )
    unpaired_in, unpaired_out = sorted(inputs - outputs), sorted(outputs - inputs)
    if len(unpaired_in) > 1:
        raise ValueError(
            f"an echo task can rename one input to an output, not {len(unpaired_in)} "
            f"(inputs {unpaired_in}, outputs {unpaired_out}): name its outputs after its inputs"
        )
    return dict(zip(unpaired_in, unpaired_out, strict=True))


def create(config: Mapping[str, Any]) -> EchoPlugin:
    """The factory the registry calls; echo takes no settings."""
    if config:
        raise ValueError(f"the echo plugin takes no settings, got {sorted(config)}")
    return EchoPlugin()
