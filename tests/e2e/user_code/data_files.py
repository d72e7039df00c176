"""A task that reads a data file shipped next to its module (`pyflyte register --copy all`), by relative path, then
writes over it: each attempt has its own copy of the bundle, as each Flyte pod unpacks its own."""

from flytekit import task, workflow


@task
def greeting(name: str) -> str:
    with open("user_code/greeting.txt") as f:  # relative to the task's working directory, as on Flyte
        text = f.read().strip().format(name=name)
    with open("user_code/greeting.txt", "w") as f:  # this attempt's copy only: the next one reads the shipped text
        f.write("overwritten by an earlier attempt")
    return text


@workflow
def greet(name: str) -> str:
    return greeting(name=name)
