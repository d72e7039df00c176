"""Dynamics nested three deep under a small max parallelism: more parents wait on their children at once
than the execution has slots."""

from flytekit import LaunchPlan, dynamic, task, workflow


@task
def plus_one(x: int) -> int:
    return x + 1


@task
def added(xs: list[int]) -> int:
    return sum(xs)


@dynamic
def leaf(start: int, n: int) -> int:
    return added(xs=[plus_one(x=start + i) for i in range(n)])


@dynamic
def branch(start: int, n: int, k: int) -> int:
    step = n // k
    return added(xs=[leaf(start=start + j * step, n=step) for j in range(k)])


@dynamic
def root(n: int, k: int) -> int:
    step = n // k
    return added(xs=[branch(start=j * step, n=step, k=k) for j in range(k)])


@workflow
def nested_wf(n: int = 18, k: int = 3) -> int:
    return root(n=n, k=k)


# 1 root + 3 branches + 9 leaves = 13 dynamic parents alive at once, against 4 slots.
narrow = LaunchPlan.get_or_create(nested_wf, name="engine_cases.parallelism.narrow", max_parallelism=4)
