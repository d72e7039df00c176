"""Task plugins for engine tests, loaded through `plugins.factories` (they are not shipped plugins).

Both echo their inputs as outputs, like the built-in echo plugin, so a workflow of them still checks
that data flows; they differ in when they finish:

- `sleep` succeeds `seconds` after its first `handle`. The start time lives in the plugin state, so
  an engine that takes the execution over from a dead one keeps the same clock.
- `fail-once` fails (permanently) the first time it runs a node of a given id, and succeeds every
  time after: the first execution fails there, and a recovery of it succeeds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from flyteidl_py.core import literals_pb2
from plugins.core import Phase, TaskExecutionContext, Transition


async def _echo(ctx: TaskExecutionContext) -> None:
    if await ctx.storage.exists(ctx.paths.inputs):
        await ctx.storage.copy(ctx.paths.inputs, ctx.paths.outputs)
    else:
        await ctx.storage.write_proto(ctx.paths.outputs, literals_pb2.LiteralMap())


class SleepPlugin:
    id = "sleep"
    task_types: tuple[str, ...] = ("sleep",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        started = float(ctx.plugin_state.decode()) if ctx.plugin_state else time.time()
        state = repr(started).encode()
        remaining = started + self.seconds - time.time()
        if remaining > 0:
            asyncio.get_running_loop().call_later(remaining, ctx.wake)
            return Transition(Phase.RUNNING, reason=f"sleeping {self.seconds:g}s", state=state)
        await _echo(ctx)
        return Transition(Phase.SUCCESS, reason="slept", state=state)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        return None

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


class FailOncePlugin:
    id = "fail-once"
    task_types: tuple[str, ...] = ("fail-once",)

    def __init__(self) -> None:
        self.failed: set[str] = set()

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        node = ctx.task_execution_id.node_execution_id.node_id
        if node not in self.failed:
            self.failed.add(node)
            return Transition.failure("FailOnce", f"node {node} fails the first time it runs", retryable=False)
        await _echo(ctx)
        return Transition(Phase.SUCCESS, reason="ran again")

    async def abort(self, ctx: TaskExecutionContext) -> None:
        return None

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


def sleep(config: Mapping[str, Any]) -> SleepPlugin:
    return SleepPlugin(float(config.get("seconds", 2.0)))


def fail_once(config: Mapping[str, Any]) -> FailOncePlugin:
    return FailOncePlugin()
