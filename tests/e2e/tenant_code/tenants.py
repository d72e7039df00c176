"""Two tenants' workflows: one that passes typed data (a file) between its tasks, one that looks at a URI it is
handed and reports what it could read and with which credentials."""

import json
import os

from flytekit import FlyteContextManager, current_context, task, workflow
from flytekit.types.file import FlyteFile


@task
def write(text: str) -> FlyteFile:
    path = os.path.join(current_context().working_directory, "secret.txt")
    with open(path, "w") as out:
        out.write(text)
    return FlyteFile(path)


@task
def count(f: FlyteFile) -> int:
    with open(f) as data:
        return len(data.read())


@workflow
def produce(text: str) -> tuple[FlyteFile, int]:
    f = write(text=text)
    return f, count(f=f)


@task
def snoop(uri: str) -> str:
    names = ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "FLYTE_AWS_ACCESS_KEY_ID")
    report = {name: os.environ.get(name, "") for name in names}
    fs = FlyteContextManager.current_context().file_access.get_filesystem_for_path(uri)
    local = os.path.join(current_context().working_directory, "fetched")
    try:  # a GET, as flytekit downloads a FlyteFile
        fs.get_file(uri, local)
        with open(local) as data:
            report["read"] = data.read()
    except Exception as exc:  # what the tenant sees is the test's answer
        report["error"] = f"{type(exc).__name__}: {exc}"
    return json.dumps(report)


@workflow
def look(uri: str) -> str:
    return snoop(uri=uri)
