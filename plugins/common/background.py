"""The background work a plugin owns (watchers, pollers): waited for briefly, or ended when the plugin closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancels the tasks, then waits until each has ended."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_briefly(future: asyncio.Future[Any], seconds: float) -> bool:
    """Waits up to `seconds` for `future` without cancelling it; whether it is done."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(future), seconds)
    return future.done()
