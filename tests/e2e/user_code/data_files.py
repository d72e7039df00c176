"""A task that reads a data file shipped next to its module (`pyflyte register --copy all`), by relative path."""

from flytekit import task, workflow


@task
def greeting(name: str) -> str:
    with open("user_code/greeting.txt") as f:  # relative to the task's working directory, as on Flyte
        return f.read().strip().format(name=name)


@workflow
def greet(name: str) -> str:
    return greeting(name=name)
