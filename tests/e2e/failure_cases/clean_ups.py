"""Workflows with a failure node (`on_failure=`): a task raises, then a clean-up task or workflow runs.

The clean-up writes what it was given to the file `marker` names, so the test sees that it ran, with
the workflow's inputs and the error.
"""

import json

from flytekit import task, workflow
from flytekit.types.error import FlyteError


@task
def prepare(x: int) -> int:
    return x * 10


@task
def explode(y: int) -> int:
    if y > 0:
        raise ValueError(f"exploded on {y}")
    return y


@task
def clean_up(x: int, marker: str, err: FlyteError | None = None) -> None:
    seen = {"x": x, "message": err.message if err else None, "failed_node_id": err.failed_node_id if err else None}
    with open(marker, "w") as fh:
        json.dump(seen, fh)


@workflow(on_failure=clean_up)
def cleaned_up_by_task(x: int, marker: str) -> int:
    return explode(y=prepare(x=x))


@workflow
def clean_up_wf(x: int, marker: str) -> None:
    clean_up(x=x, marker=marker)


@workflow(on_failure=clean_up_wf)
def cleaned_up_by_workflow(x: int, marker: str) -> int:
    return explode(y=prepare(x=x))
