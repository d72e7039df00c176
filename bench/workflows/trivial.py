"""Trivial flytekit workloads for the benchmarks: one task, chains and fan-outs of `x + 1`."""

from flytekit import task, workflow


@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def one_task(x: int = 0) -> int:
    return plus_one(x=x)


@workflow
def chain50(x: int = 0) -> int:
    for _ in range(50):
        x = plus_one(x=x)
    return x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def fan_out100(x: int = 0) -> int:
    return total(xs=[plus_one(x=x) for _ in range(100)])


@workflow
def chain10(x: int = 0) -> int:
    for _ in range(10):
        x = plus_one(x=x)
    return x
