"""Workflows of two projects on a plane that isolates tasks: one owns data, the other tries to read it."""

import json
import os

import flytekit
from flytekit import Secret, map_task, task, workflow
from flytekit.types.file import FlyteFile


@task
def write_note(text: str) -> FlyteFile:
    path = os.path.join(flytekit.current_context().working_directory, "note.txt")
    with open(path, "w") as handle:
        handle.write(text)
    return FlyteFile(path)


@task
def read_note(note: FlyteFile) -> str:
    with open(note.download()) as handle:
        return handle.read()


@task(secret_requests=[Secret(group="vault", key="key", mount_requirement=Secret.MountType.FILE)])
def own_secrets() -> str:
    """The task's own secret file and its token for calls back into admin (`authType: ExternalCommand`)."""
    with open(flytekit.current_context().secrets.get_secrets_file("vault", "key")) as handle:
        secret = handle.read()
    command = os.environ["FLYTE_CREDENTIALS_COMMAND"]  # "cat,<token file>"
    with open(command.split(",", 1)[1]) as handle:
        token = handle.read()
    return json.dumps({"secret": secret, "token": bool(token)})


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def owner_wf(text: str) -> tuple[FlyteFile, str, str, list[int]]:
    """A file passed from one task to the next and a map task's elements (each reading its own narrowed inputs): the
    project's own data still flows; its secrets still reach it."""
    note = write_note(text=text)
    return note, read_note(note=note), own_secrets(), map_task(double)(x=[1, 2, 3])


def _probe(paths: list[str]) -> str:
    """What this process can do with each path: `read`, or the error's name; and who it runs as."""
    outcomes = {}
    for path in paths:
        try:
            if os.path.isdir(path):
                outcomes[path] = sorted(os.listdir(path))  # what the task sees there
                continue
            else:
                with open(path, "rb") as handle:
                    handle.read(1)
            outcomes[path] = "read"
        except OSError as error:
            outcomes[path] = type(error).__name__
    return json.dumps({"uid": os.getuid(), "gid": os.getgid(), "outcomes": outcomes})


@task(environment={"FLYTEPLANE_WARM": "false"})
def probe_cold(paths: list[str]) -> str:
    return _probe(paths)


@task
def probe_fork(paths: list[str]) -> str:
    return _probe(paths)


@task(environment={"FLYTEPLANE_WARM": "reuse"})
def probe_reuse(paths: list[str]) -> str:
    return _probe(paths)


@workflow
def intruder_wf(paths: list[str]) -> tuple[str, str, str]:
    """The same probe on each path that starts an attempt: cold, forked from a fork server, reuse mode."""
    return probe_cold(paths=paths), probe_fork(paths=paths), probe_reuse(paths=paths)
