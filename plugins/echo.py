"""The `echo` backend: a task whose outputs are its inputs, without any process (Flyte's echo plugin).

One `handle` writes the inputs as `outputs.pb` and succeeds; calling it again writes the same
outputs again, so it is idempotent. A task without inputs (no inputs.pb) gets an empty LiteralMap.
As an array element (map task), it echoes element `array_index` of each collection input, as a
map task's element would compute it from the whole-list inputs.pb.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from flyteidl_py.core import literals_pb2
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
        if ctx.array_index is not None:
            inputs = await self._array_inputs(ctx)
            element = literals_pb2.LiteralMap()
            for name, literal in inputs.literals.items():
                is_list = literal.WhichOneof("value") == "collection"
                element.literals[name].CopyFrom(literal.collection.literals[ctx.array_index] if is_list else literal)
            await ctx.storage.write_proto(ctx.paths.outputs, element)
        else:
            await ctx.write_outputs(await ctx.read_inputs())
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


def create(config: Mapping[str, Any]) -> EchoPlugin:
    """The factory the registry calls; echo takes no settings."""
    if config:
        raise ValueError(f"the echo plugin takes no settings, got {sorted(config)}")
    return EchoPlugin()
