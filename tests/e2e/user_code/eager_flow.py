"""An eager workflow: plain Python control flow over awaited tasks, each launched as its own execution."""

import asyncio

from flytekit import eager, task


@task
def add_one(x: int) -> int:
    return x + 1


@task
def times(x: int, y: int) -> int:
    return x * y


@eager
async def eager_sum(x: int) -> int:
    first, second = await asyncio.gather(add_one(x=x), add_one(x=x + 10))
    if first > 100:  # decided in Python, on a value a task computed
        return first
    return await times(x=first, y=second)
