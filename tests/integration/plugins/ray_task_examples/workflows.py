"""Ordinary Python tasks (no Ray in them) that the ray-tasks backend runs as Ray tasks; tests/integration/plugins."""

import os
import time
import typing
from pathlib import Path

from flytekit import Resources, dynamic, task, workflow
from flytekit.exceptions.user import FlyteRecoverableException


class Stats(typing.NamedTuple):
    total: int
    mean: float
    label: str


def node() -> str:
    """The Ray node that runs this task (`FLYTEPLANE_RAY_NODE` of its worker), or "none" outside Ray."""
    return os.environ.get("FLYTEPLANE_RAY_NODE", "none")


@task
def stats(xs: list[int], label: str) -> Stats:
    return Stats(total=sum(xs), mean=sum(xs) / len(xs), label=f"{label} on {node()}")


@task
def scaled(values: dict[str, float], factor: float) -> dict[str, float]:
    return {k: v * factor for k, v in values.items()}


@workflow
def typed(xs: list[int] = [1, 2, 3, 4], label: str = "sum") -> tuple[int, float, str, dict[str, float]]:  # noqa: B006
    s = stats(xs=xs, label=label)
    return s.total, s.mean, s.label, scaled(values={"a": 1.5, "b": -2.0}, factor=s.mean)


@task(retries=2)
def recovers(x: int) -> int:
    """Fails on its first attempt the way a user marks a failure retryable."""
    if os.environ.get("FLYTE_ATTEMPT_NUMBER", "0") == "0":
        raise FlyteRecoverableException("the first attempt fails on purpose")
    return x + 1


@task(retries=2)
def crashes_once(x: int) -> int:
    """Ends its Ray worker on its first attempt (as a segfault would): a system failure, retried."""
    if os.environ.get("FLYTE_ATTEMPT_NUMBER", "0") == "0":
        os._exit(3)
    return x + 2


@workflow
def retried(x: int = 1) -> tuple[int, int]:
    return recovers(x=x), crashes_once(x=x)


@task
def where(x: int) -> str:
    return node()


@task(requests=Resources(cpu="2"))
def where_big(x: int) -> str:
    """Requests two CPUs: only the second node has that many."""
    return node()


@workflow
def placed(x: int = 0) -> tuple[str, str]:
    return where(x=x), where_big(x=x)


@workflow
def located(x: int = 0) -> str:
    return where(x=x)


@task
def sleeps(marker: str, seconds: int) -> int:
    """Appends `started <pid>` to the marker file, sleeps, appends `finished`; the number of starts so far."""
    path = Path(marker)
    with path.open("a") as out:
        out.write(f"started {os.getpid()}\n")
    time.sleep(seconds)
    with path.open("a") as out:
        out.write("finished\n")
    return path.read_text().count("started")


@workflow
def sleepy(marker: str, seconds: int = 5) -> int:
    return sleeps(marker=marker, seconds=seconds)


@task
def square(x: int) -> int:
    return x * x


@dynamic
def squares(n: int) -> list[int]:
    return [square(x=i) for i in range(n)]


@workflow
def dynamic_squares(n: int = 2) -> list[int]:
    return squares(n=n)
