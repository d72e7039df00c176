"""Workflows the client commands watch: a task that talks slowly, a tree with a map task and a @dynamic, a failure."""

import time

from flytekit import dynamic, map_task, task, workflow


@task
def talk(lines: int, pause: float) -> int:
    for i in range(lines):
        print(f"line {i} of {lines} written at {time.time():.3f}", flush=True)
        time.sleep(pause)
    return lines


@task
def square(x: int) -> int:
    print(f"squaring {x}", flush=True)
    return x * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def add(a: int, b: int) -> int:
    return a + b


@dynamic
def fan_out(n: int) -> list[int]:
    return [square(x=i) for i in range(n)]


@task
def fail(x: int) -> int:
    if x > 0:
        raise ValueError(f"deliberate failure for {x}")
    return x


@workflow
def slow_wf(lines: int = 5, pause: float = 0.6) -> int:
    return talk(lines=lines, pause=pause)


@workflow
def tree_wf(xs: list[int] = [0, 1, 2, 3], n: int = 2) -> int:  # noqa: B006 - flytekit takes literal defaults
    mapped = total(xs=map_task(square)(x=xs))
    dynamic_sum = total(xs=fan_out(n=n))
    return add(a=mapped, b=dynamic_sum)


@workflow
def failing_wf(x: int = 1) -> int:
    return fail(x=x)
