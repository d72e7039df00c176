"""A map task whose element 3 fails while the others would run for ten minutes."""

import time

from flytekit import map_task, task, workflow


@task
def fail_or_sleep(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad {x}")
    time.sleep(600)
    return x


@workflow
def failing_map_wf(xs: list[int] = [0, 1, 2, 3, 4]) -> list[int]:  # noqa: B006
    return map_task(fail_or_sleep)(x=xs)
