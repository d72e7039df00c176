"""Dynamic fan-outs for bench/dynamic_scale.py, next to the static fan-outs of the same size they are compared with.

Every shape computes sum(i + 1 for i in range(n)) with `x + 1` tasks and one `total` per list. Kept out of
bench/workflows, which the other benchmarks register whole: a 20,000-node workflow takes a while to register.
"""

from flytekit import dynamic, task, workflow


@task
def plus_one(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@dynamic
def fan(start: int, n: int) -> int:
    """n tasks (start + i + 1 for i < n) and their total: the innermost level."""
    return total(xs=[plus_one(x=start + i) for i in range(n)])


@workflow
def dynamic_fan(n: int = 10) -> int:
    return fan(start=0, n=n)


@dynamic
def middle(start: int, n: int, k: int) -> int:
    """k `fan`s of n // k tasks each (n a multiple of k)."""
    step = n // k
    return total(xs=[fan(start=start + j * step, n=step) for j in range(k)])


@dynamic
def outer(n: int, k: int) -> int:
    """k `middle`s of n // k tasks each: dynamics nested three deep (outer -> middle -> fan -> tasks)."""
    step = n // k
    return total(xs=[middle(start=j * step, n=step, k=k) for j in range(k)])


@workflow
def nested_fan(n: int = 8, k: int = 2) -> int:
    return outer(n=n, k=k)


@workflow
def static_fan2000() -> int:
    return total(xs=[plus_one(x=i) for i in range(2000)])


@workflow
def static_fan20000() -> int:
    return total(xs=[plus_one(x=i) for i in range(20000)])
