"""What the console must show at once: a sub-workflow, a @dynamic, a large map task, a task that fails once
and is retried, a gate waiting for approval, and a task that writes its log slowly; and a map of cached elements."""

import os
import sys
import time
from datetime import timedelta

from flytekit import approve, dynamic, map_task, task, workflow
from flytekit.exceptions.user import FlyteRecoverableException

# Stored text is attacker-controlled: the console must show this as text, never as markup.
HOSTILE = "<img src=x onerror=\"window.__xss='error'\">"


@task
def chatty(lines: int) -> int:
    for i in range(lines):
        print(f"console-log-line {i} {HOSTILE}", flush=True)
        sys.stdout.flush()
        time.sleep(0.5)
    return lines


# The map's 10,000 elements run one after another in warm reuse workers (opted into per task, as a user with a
# large map of small elements would), not a fork each: on a 2-core machine that is minutes rather than many.
@task(environment={"FLYTEPLANE_WARM": "reuse"})
def square(x: int) -> int:
    print(f"square of {x}", flush=True)  # a map element's log the console shows
    return x * x


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def finish(mapped: list[int], approved: int) -> int:
    return sum(mapped) + approved


@task(retries=2)
def flaky(marker: str) -> str:
    # Fails on its first attempt (no marker yet), recoverably (flytekit retries only those), succeeds on the retry.
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write("failed once")
        raise FlyteRecoverableException(f"first attempt fails on purpose {HOSTILE}")
    return "recovered"


@workflow
def squared_twice(x: int) -> int:
    return square(x=square(x=x))


@dynamic
def fan(n: int) -> list[int]:
    return [square(x=i) for i in range(n)]


@workflow
def everything(lines: int = 12, n: int = 3, elements: int = 100, marker: str = "/tmp/never") -> int:
    logged = chatty(lines=lines)
    nested = squared_twice(x=n)
    fanned = fan(n=n)
    mapped = map_task(square)(x=numbers(n=elements))
    recovered = flaky(marker=marker)
    approved = approve(nested, "review", timeout=timedelta(minutes=10))
    recovered >> approved
    fanned >> approved
    logged >> approved
    return finish(mapped=mapped, approved=approved)


@task
def describe(count: int, ratio: float, label: str, flag: bool, items: list[int], scores: dict[str, float]) -> str:
    return f"{count}|{ratio}|{label}|{flag}|{sum(items)}|{sorted(scores.items())}"


@workflow
def typed(
    count: int,
    ratio: float = 0.5,
    label: str = "plain",
    flag: bool = False,
    items: list[int] = [1, 2],  # noqa: B006
    scores: dict[str, float] = {"a": 1.0},  # noqa: B006
) -> str:
    return describe(count=count, ratio=ratio, label=label, flag=flag, items=items, scores=scores)


@task
def slow_square(x: int) -> int:
    # Each element outlives the test's wait for its Terminate click, however slow the machine: a map
    # whose elements all finished first would rightly end SUCCEEDED (as on Flyte, where a terminate
    # that reaches an execution after its work is done changes nothing). Abort kills the sleepers.
    time.sleep(120)
    return x * x


@workflow
def large_map(xs: list[int]) -> list[int]:
    return map_task(slow_square)(x=xs)


@task(cache=True, cache_version="1")
def cached_square(x: int) -> int:
    return x * x


@workflow
def cached_map(xs: list[int]) -> list[int]:
    # Each element is cached on its own: run again with one value changed, only that element misses.
    return map_task(cached_square)(x=xs)
