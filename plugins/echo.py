"""The `echo` backend: a task whose outputs are its inputs, without any process (Flyte's echo plugin).

One `handle` copies `inputs.pb` to `outputs.pb` and succeeds; calling it again copies the same
bytes again, so it is idempotent. A task without inputs (no inputs.pb) gets an empty LiteralMap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flyteidl_py.core import literals_pb2
from plugins.core import Phase, TaskExecutionContext, Transition


class EchoPlugin:
    """Serves task type `echo`."""

    id = "echo"
    task_types: tuple[str, ...] = ("echo",)

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        if await ctx.storage.exists(ctx.paths.inputs):
            await ctx.storage.copy(ctx.paths.inputs, ctx.paths.outputs)
        else:
            await ctx.storage.write_proto(ctx.paths.outputs, literals_pb2.LiteralMap())
        return Transition(Phase.SUCCESS, reason="outputs are the inputs")

    async def abort(self, ctx: TaskExecutionContext) -> None:
        return None

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


def create(config: Mapping[str, Any]) -> EchoPlugin:
    """The factory the registry calls; echo takes no settings."""
    if config:
        raise ValueError(f"the echo plugin takes no settings, got {sorted(config)}")
    return EchoPlugin()
