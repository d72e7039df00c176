"""Task plugins for engine tests, loaded through `plugins.factories` (they are not shipped plugins).

Those that succeed echo their inputs as outputs, like the built-in echo plugin, so a workflow of them
still checks that data flows; they differ in when they finish:

- `sleep` succeeds `seconds` after its first `handle`. The start time lives in the plugin state, so
  an engine that takes the execution over from a dead one keeps the same clock. It wakes the execution when
  the time is up, unless `wakes: false` (a backend that only answers when asked). An array element sleeps
  `stagger` seconds more per index (so the elements end one after another); with `record`, each `handle` of
  an array element appends its index there (how often the engine looked at it).
- `fail-once` fails (permanently) the first time it runs a node of a given id, and succeeds every
  time after: the first execution fails there, and a recovery of it succeeds.
- `flaky` fails (retryably) the first `failures` attempts of every node and succeeds after; each
  attempt's start and end are appended to the JSON-lines file `record`, with the time, so a test sees
  when attempts ran however many engines ran them.
- `fail-or-hang` runs one element of an array node per attempt: the element whose index is `fail_index`
  fails (permanently) with the message "bad <index>", every other one runs until it is aborted; each
  abort is appended to the JSON-lines file `record`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flyteidl_py.core import literals_pb2
from plugins.core import Phase, TaskExecutionContext, Transition


async def _echo(ctx: TaskExecutionContext) -> None:
    if ctx.array_index is not None:  # an array element: its item of each list input, as the echo plugin does
        inputs, element = await ctx.read_inputs(), literals_pb2.LiteralMap()
        for name, literal in inputs.literals.items():
            is_list = literal.WhichOneof("value") == "collection"
            element.literals[name].CopyFrom(literal.collection.literals[ctx.array_index] if is_list else literal)
        await ctx.storage.write_proto(ctx.paths.outputs, element)
    elif await ctx.storage.exists(ctx.paths.inputs):
        await ctx.storage.copy(ctx.paths.inputs, ctx.paths.outputs)
    else:
        await ctx.storage.write_proto(ctx.paths.outputs, literals_pb2.LiteralMap())


class SleepPlugin:
    id = "sleep"
    task_types: tuple[str, ...] = ("sleep",)

    def __init__(
        self,
        seconds: float,
        *,
        wakes: bool = True,
        says_so: bool = False,
        stagger: float = 0.0,
        record: Path | None = None,
    ) -> None:
        self.seconds = seconds
        self.wakes = wakes
        self.says_so = says_so  # a sleeping attempt's transition says the plugin wakes for it (`Transition.wakes`)
        self.stagger = stagger
        self.record = record

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        if self.record is not None and ctx.array_index is not None:
            await _append(self.record, {"index": ctx.array_index})
        started = float(ctx.plugin_state.decode()) if ctx.plugin_state else time.time()
        state = repr(started).encode()
        remaining = started + self.seconds + self.stagger * (ctx.array_index or 0) - time.time()
        if remaining > 0:
            if self.wakes:
                asyncio.get_running_loop().call_later(remaining, ctx.wake)
            return Transition(
                Phase.RUNNING, reason=f"sleeping {self.seconds:g}s", state=state, wakes=self.wakes and self.says_so
            )
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
    record = config.get("record")
    return SleepPlugin(
        float(config.get("seconds", 2.0)),
        wakes=bool(config.get("wakes", True)),
        says_so=bool(config.get("says_so", False)),
        stagger=float(config.get("stagger", 0.0)),
        record=Path(record) if record else None,
    )


def fail_once(config: Mapping[str, Any]) -> FailOncePlugin:
    return FailOncePlugin()


async def _append(record: Path, entry: dict[str, Any]) -> None:
    def write() -> None:
        with record.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")

    await asyncio.to_thread(write)


def read_records(record: Path) -> list[dict[str, Any]]:
    """What `sleep`, `flaky` or `fail-or-hang` appended to `record`, in order."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line]


class FlakyPlugin:
    id = "flaky"
    task_types: tuple[str, ...] = ("flaky",)

    def __init__(self, failures: int, record: Path, system: bool) -> None:
        self.failures, self.record, self.system = failures, record, system

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        node, attempt = ctx.task_execution_id.node_execution_id.node_id, ctx.attempt
        entry = {"node": node, "index": ctx.array_index, "attempt": attempt}
        await _append(self.record, {**entry, "event": "started", "at": time.time()})
        if attempt < self.failures:
            await _append(self.record, {**entry, "event": "failed", "at": time.time()})
            return Transition.failure("Flaky", f"attempt {attempt} of {node} fails", retryable=True, system=self.system)
        await _echo(ctx)
        await _append(self.record, {**entry, "event": "succeeded", "at": time.time()})
        return Transition(Phase.SUCCESS, reason="succeeded")

    async def abort(self, ctx: TaskExecutionContext) -> None:
        return None

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


class FailOrHangPlugin:
    id = "fail-or-hang"
    task_types: tuple[str, ...] = ("fail-or-hang",)

    def __init__(self, fail_index: int, record: Path) -> None:
        self.fail_index, self.record = fail_index, record

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        if ctx.array_index == self.fail_index:
            return Transition.failure("ValueError", f"bad {ctx.array_index}", retryable=False)
        return Transition(Phase.RUNNING, version=1, reason="hanging until aborted")

    async def abort(self, ctx: TaskExecutionContext) -> None:
        await _append(self.record, {"index": ctx.array_index, "event": "aborted", "at": time.time()})

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


def flaky(config: Mapping[str, Any]) -> FlakyPlugin:
    return FlakyPlugin(int(config.get("failures", 2)), Path(str(config["record"])), bool(config.get("system", False)))


def fail_or_hang(config: Mapping[str, Any]) -> FailOrHangPlugin:
    return FailOrHangPlugin(int(config.get("fail_index", 3)), Path(str(config["record"])))
