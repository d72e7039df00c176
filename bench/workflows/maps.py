"""Map tasks of trivial elements for bench/map_scale.py: a list produced by a task, mapped with `x + 1`, summed."""

from flytekit import map_task, task, workflow


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def plus_one(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def mapped(n: int = 10) -> int:
    return total(xs=map_task(plus_one)(x=numbers(n=n)))


@workflow
def mapped_input(xs: list[int] = [0, 1, 2]) -> int:  # noqa: B006
    return total(xs=map_task(plus_one)(x=xs))
