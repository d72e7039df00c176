"""A workflow taking a directory and a file from the user's machine, as `pyflyte run --remote` uploads them."""

import os

import flytekit
from flytekit import task, workflow
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile


@task
def describe(d: FlyteDirectory) -> str:
    """`name=content` of every file in the directory, sorted."""
    local = d.download()
    entries = []
    for root, _, files in os.walk(local):
        for name in files:
            path = os.path.join(root, name)
            with open(path) as handle:
                entries.append(f"{os.path.relpath(path, local)}={handle.read().strip()}")
    return ",".join(sorted(entries))


@task
def read(f: FlyteFile) -> str:
    with open(f) as handle:
        return handle.read().strip()


@task
def add_file(d: FlyteDirectory) -> FlyteDirectory:
    """A new directory: the input's files plus one; what a task hands on to the next."""
    local = d.download()
    out = os.path.join(flytekit.current_context().working_directory, "out")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(local):
        with open(os.path.join(local, name)) as source, open(os.path.join(out, name), "w") as target:
            target.write(source.read())
    with open(os.path.join(out, "added.txt"), "w") as handle:
        handle.write("added")
    return FlyteDirectory(out)


@workflow
def uploads_wf(d: FlyteDirectory, f: FlyteFile) -> tuple[str, str, str]:
    return describe(d=d), read(f=f), describe(d=add_file(d=d))
