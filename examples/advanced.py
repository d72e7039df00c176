"""@dynamic, a map task, a conditional and caching in one workflow."""

from flytekit import conditional, dynamic, map_task, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task(cache=True, cache_version="1")
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def add(a: int, b: int) -> int:
    return a + b


@dynamic
def triangle(n: int) -> int:
    acc = 0
    for i in range(1, n + 1):
        acc = add(a=acc, b=i)
    return acc


@task
def describe(kind: str, value: int) -> str:
    return f"{kind}: {value}"


@workflow
def advanced_wf(xs: list[int] = [1, 2, 3, 4], n: int = 5) -> tuple[int, int, str]:  # noqa: B006
    squares_total = total(xs=map_task(square)(x=xs))
    tri = triangle(n=n)
    verdict = (
        conditional("size")
        .if_(n > 3)
        .then(describe(kind="big", value=tri))
        .else_()
        .then(describe(kind="small", value=tri))
    )
    return squares_total, tri, verdict
