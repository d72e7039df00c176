"""A map task over a list a task produces, large enough that per-element costs linear in the array's size show."""

from flytekit import map_task, task, workflow


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def large_map_wf(n: int = 10) -> list[int]:
    return map_task(plus_one)(x=numbers(n=n))
