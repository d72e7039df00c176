"""The workflow the generated clients launch: typed inputs of four kinds, three typed outputs."""

from flytekit import task, workflow


@task
def combine(n: int, word: str, scale: float, xs: list[int]) -> tuple[int, str, float]:
    return n + sum(xs), word * 2, n * scale


@workflow
def clients_wf(n: int, word: str, scale: float = 0.5, xs: list[int] = [1, 2]) -> tuple[int, str, float]:  # noqa: B006
    return combine(n=n, word=word, scale=scale, xs=xs)
