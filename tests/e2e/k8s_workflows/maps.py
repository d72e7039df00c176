"""Map tasks whose elements run as pods: flytekit's map_task (an ArrayNode of `python-task` elements, run by
`k8s-pod`) and its legacy map task (one `container_array` task, run by `k8s-array`)."""

import os
import time

from flytekit import map_task, task, workflow
from flytekit.core.legacy_map_task import map_task as legacy_map_task
from flytekit.exceptions.user import FlyteRecoverableException


@task
def square(x: int) -> int:
    return x * x


@workflow
def squares(xs: list[int]) -> list[int]:
    return map_task(square)(x=xs)


@task(retries=1)
def flaky_square(x: int) -> int:
    """Element x=2 fails its first attempt (a recoverable user error: flytekit's others are not retried)."""
    if x == 2 and os.environ.get("FLYTE_ATTEMPT_NUMBER", "0") == "0":
        raise FlyteRecoverableException(f"element {x}'s first attempt fails on purpose")
    return x * x


@workflow
def retried_squares(xs: list[int]) -> list[int]:
    return map_task(flaky_square)(x=xs)


@task
def picky_square(x: int) -> int:
    if x == 3:
        raise ValueError(f"element {x} fails on purpose")
    return x * x


@workflow
def tolerant_squares(xs: list[int]) -> list[int | None]:
    return map_task(picky_square, min_success_ratio=0.5)(x=xs)


@workflow
def strict_squares(xs: list[int]) -> list[int]:
    return map_task(picky_square)(x=xs)


@task
def slow_square(x: int) -> int:
    time.sleep(2)
    return x * x


@workflow
def limited_squares(xs: list[int]) -> list[int]:
    return map_task(slow_square, concurrency=2)(x=xs)


@task
def sleeps(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@workflow
def sleepers(xs: list[int]) -> list[int]:
    return map_task(sleeps)(seconds=xs)


@workflow
def legacy_squares(xs: list[int]) -> list[int]:
    return legacy_map_task(square)(x=xs)


@workflow
def legacy_tolerant_squares(xs: list[int]) -> list[int | None]:
    return legacy_map_task(picky_square, min_success_ratio=0.5)(x=xs)
