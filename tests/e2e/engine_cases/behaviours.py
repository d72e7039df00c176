"""Workflows whose point is how they fail, retry, wait or resume: the engine's behaviours under flytekit."""

import datetime
import os
import time

from flytekit import approve, conditional, current_context, map_task, sleep, task, wait_for_input, workflow
from flytekit.exceptions.user import FlyteRecoverableException


@task(retries=3)
def flaky(x: int) -> int:
    """Fails (recoverably) on its first two attempts, then succeeds and reports the attempt number."""
    attempt = int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))
    if attempt < 2:
        raise FlyteRecoverableException(f"attempt {attempt} is too early")
    return x + attempt


@workflow
def flaky_wf(x: int = 10) -> int:
    return flaky(x=x)


@task
def must_be_positive(x: int) -> int:
    if x <= 0:
        raise ValueError(f"x must be positive, got {x}")
    return x


@workflow
def failing_wf(x: int = -1) -> int:
    return must_be_positive(x=x)


@task(timeout=datetime.timedelta(seconds=2))
def too_slow(x: int) -> int:
    time.sleep(60)
    return x


@workflow
def timeout_wf(x: int = 1) -> int:
    return too_slow(x=x)


@task
def nap(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@workflow
def long_wf(seconds: int = 120) -> int:
    return nap(seconds=seconds)


@task
def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * 10


@workflow
def partial_map_wf(xs: list[int] = [1, 2, 3, 4]) -> list[int | None]:  # noqa: B006
    return map_task(fail_on_three, min_success_ratio=0.5)(x=xs)


@task
def double(x: int) -> int:
    return x * 2


@workflow
def else_fail_wf(x: int = 5) -> int:
    return conditional("bounded").if_(x < 3).then(double(x=x)).else_().fail("x must be below 3")


@task(retries=2)
def checkpointed(x: int) -> int:
    """Writes a checkpoint, fails once, and on the retry resumes from the checkpoint."""
    cp = current_context().checkpoint
    previous = cp.read()
    if previous is None:
        cp.write(str(x * 100).encode())
        raise FlyteRecoverableException("failing after the checkpoint")
    return int(previous.decode()) + 1


@workflow
def checkpoint_wf(x: int = 7) -> int:
    return checkpointed(x=x)


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow
def gates_wf(x: int = 3) -> int:
    napped = sleep(datetime.timedelta(seconds=1))
    y = wait_for_input("bump", timeout=datetime.timedelta(minutes=5), expected_type=int)
    doubled = double(x=x)
    napped >> y
    approved = approve(doubled, "ok", timeout=datetime.timedelta(minutes=5))
    return add(a=approved, b=y)


@task
def once(marker_dir: str, key: str, x: int) -> int:
    """Claims a marker file for this (execution, step, attempt): a second start of the same attempt fails."""
    name = current_context().execution_id.name
    attempt = os.environ.get("FLYTE_ATTEMPT_NUMBER", "0")
    with open(os.path.join(marker_dir, f"{name}-{key}-{attempt}"), "x") as fh:
        fh.write(str(os.getpid()))
    time.sleep(1.0)
    return x + 1


@workflow
def crash_wf(marker_dir: str, x: int = 0) -> int:
    a = once(marker_dir=marker_dir, key="a", x=x)
    b = once(marker_dir=marker_dir, key="b", x=a)
    return once(marker_dir=marker_dir, key="c", x=b)
