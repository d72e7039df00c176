"""Task settings that travel in the TaskTemplate: caching, retries, timeout, interruptible, resources."""

import datetime

from flytekit import Resources, task, workflow


@task(cache=True, cache_version="1.0", cache_serialize=True)
def cached_double(x: int) -> int:
    return 2 * x


@task(retries=3, timeout=datetime.timedelta(minutes=5), interruptible=True)
def retried(x: int) -> int:
    return x + 1


@task(
    requests=Resources(cpu="500m", mem="256Mi"),
    limits=Resources(cpu="1", mem="512Mi"),
    environment={"EXAMPLE_ENV": "yes"},
)
def resourced(x: int) -> str:
    return f"value={x}"


@workflow
def configured_wf(x: int = 21) -> str:
    return resourced(x=retried(x=cached_double(x=x)))
