"""Small blocking calls off the event loop, batched: `batched(call)` is `asyncio.to_thread(call)` for calls that
take microseconds (a local file's stat, open, rename), issued by the hundred in one pass of the engine."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# A batch larger than this is split between two worker threads.
_BATCH_SPLIT = 64

_Call = tuple[contextvars.Context, Callable[[], Any], "asyncio.Future[Any]"]


class Batches:
    """Runs the small blocking calls issued in one event-loop iteration together, in one worker-thread
    job (two for a large batch), instead of one thread hand-off each.

    A pass of the engine issues hundreds of object operations at once (one per node it advances); one
    hand-off each costs a futex wake-up and a loop wake-up per call, which on two cores was a good part
    of the engine's time. Each call still gets its own result or exception, and runs in its caller's
    context (its variables), exactly as it would alone. A call that may block for long (network, fsync)
    belongs in `asyncio.to_thread`: it would hold up the calls batched after it.
    """

    def __init__(self) -> None:
        self._pending: dict[asyncio.AbstractEventLoop, list[_Call]] = {}

    async def run(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._dispatch, loop)
        future: asyncio.Future[T] = loop.create_future()
        pending.append((contextvars.copy_context(), call, future))
        return await future

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop, [])
        half = len(batch) // 2 if len(batch) > _BATCH_SPLIT else len(batch)
        for part in (batch[:half], batch[half:]):
            if part:
                loop.run_in_executor(None, self._run, loop, part)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, part: list[_Call]) -> None:
        settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        for context, call, future in part:
            try:
                settled.append((future, context.run(call), None))
            except BaseException as error:  # handed to the caller, as asyncio.to_thread would
                settled.append((future, None, error))
        loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in settled:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


_SHARED = Batches()


async def batched(call: Callable[[], T]) -> T:
    """`call()` in a worker thread, with the other `batched` calls of this event-loop iteration."""
    return await _SHARED.run(call)
