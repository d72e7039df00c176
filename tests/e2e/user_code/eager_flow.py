"""An eager workflow: plain Python control flow over tasks, each launched as its own execution."""

from flytekit import eager, task


@task
def add_one(x: int) -> int:
    return x + 1


@task
def times(x: int, y: int) -> int:
    return x * y


@eager
async def eager_sum(x: int) -> int:
    # In an eager task, calling a task launches it and waits for its value (flytekit 1.16).
    first = add_one(x=x)
    second = add_one(x=x + 10)
    if first > 100:  # decided in Python, on a value a task computed
        return first
    return times(x=first, y=second)
