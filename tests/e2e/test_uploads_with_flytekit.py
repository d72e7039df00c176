"""`pyflyte run --remote` with a directory and a file from the user's machine, on every kind of store.

flytekit uploads each file of a directory through the data proxy under one content-derived prefix,
and hands the task the longest common prefix of the uploaded objects -- for a directory of one
file, that file's own URI. On a Flyte sandbox the task then downloads it into a directory; it must
work the same here, on the local store, S3 (moto) and GCS (the emulator).
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from flyteplane.storage import GCSConfig, S3Config, StorageConfig
from tests.integration.flyteplane.storage.conftest import (
    S3_KEY,
    S3_SECRET,
    gcs_client,
    gcs_endpoint,
    moto_endpoint,
    service_account_key,
)
from tests.support.flytekit import Flytekit
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, local_plane_config, running_plane

__all__ = [
    "gcs_client",
    "gcs_endpoint",
    "moto_endpoint",
    "service_account_key",
]  # fixtures, shared with the storage tests

USER_DATA = Path(__file__).with_name("user_data")
PROBE = Path(__file__).with_name("flyteremote_probe.py")


@pytest.fixture(scope="module", params=["file", "s3", "gs"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> StorageConfig | None:
    """The plane's store: the local one (None: the plane's default), or a fresh bucket in moto or the GCS emulator."""
    bucket = f"uploads-{uuid.uuid4().hex[:12]}"
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
        ).create_bucket(Bucket=bucket)
        s3 = S3Config(endpoint_url=endpoint, access_key_id=S3_KEY, secret_access_key=SecretStr(S3_SECRET))
        return StorageConfig(default_scheme="s3", default_bucket=bucket, s3=s3)
    if request.param == "gs":
        endpoint = request.getfixturevalue("gcs_endpoint")
        key_file, _ = request.getfixturevalue("service_account_key")
        client = request.getfixturevalue("gcs_client")
        client.create_bucket(bucket)
        config = GCSConfig(
            endpoint_url=endpoint, project="flyteplane-test", anonymous=True, service_account_file=key_file
        )
        return StorageConfig(default_scheme="gs", default_bucket=bucket, gcs=config)
    return None


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, store: StorageConfig | None
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    config = local_plane_config(directory, flytekit_venv)
    if store is not None:
        config = config.model_copy(update={"storage": store.model_copy(update={"local_root": directory / "store"})})
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    flytekit = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    flytekit.add_package(USER_DATA, "user_data")
    return flytekit


async def _run_with(client: Flytekit, directory: Path, file: Path, name: str) -> dict[str, Any]:
    await client.run_remote("user_data/uploads.py", "uploads_wf", "--d", str(directory), "--f", str(file), name=name)
    answer: dict[str, Any] = await client.remote(PROBE, {"action": "wait_for", "execution_name": name}, time_limit=240)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))


def _files(root: Path, contents: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in contents.items():
        (root / name).write_text(text)
    return root


async def test_a_directory_holding_one_file_arrives_as_a_directory(client: Flytekit, tmp_path: Path) -> None:
    directory = _files(tmp_path / "one", {"only.txt": "alone"})
    file = _files(tmp_path / "f", {"note.txt": "a note"}) / "note.txt"
    outputs = await _run_with(client, directory, file, "one-file-dir")
    assert outputs == {"o0": "only.txt=alone", "o1": "a note", "o2": "added.txt=added,only.txt=alone"}


async def test_a_directory_of_several_files_arrives_whole(client: Flytekit, tmp_path: Path) -> None:
    directory = _files(tmp_path / "several", {"a.txt": "first", "b.txt": "second", "c.csv": "x,y"})
    file = _files(tmp_path / "f", {"data.bin": "payload"}) / "data.bin"
    outputs = await _run_with(client, directory, file, "several-file-dir")
    assert outputs == {
        "o0": "a.txt=first,b.txt=second,c.csv=x,y",
        "o1": "payload",
        "o2": "a.txt=first,added.txt=added,b.txt=second,c.csv=x,y",
    }


async def _run_shelf(client: Flytekit, name: str, *inputs: str, workflow: str = "shelf_wf") -> dict[str, Any]:
    module = "dataclass_dirs_generic" if workflow == "generic_shelf_wf" else "dataclass_dirs"
    await client.run_remote(f"user_data/{module}.py", workflow, *inputs, name=name)
    answer: dict[str, Any] = await client.remote(PROBE, {"action": "wait_for", "execution_name": name}, time_limit=240)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))


# flytekit checks a directory it uploaded on the client unless the data proxy named it with a store's
# URI; for a one-file directory held by a dataclass (which admin sees only with the input's type) it
# refused a local store's plain path as "not a directory" before launching (issue 14).
@pytest.mark.parametrize("store", ["file"], indirect=True)
@pytest.mark.parametrize("workflow", ["shelf_wf", "generic_shelf_wf"])
async def test_a_dataclass_default_holding_a_one_file_directory_arrives_as_that_directory(
    client: Flytekit, workflow: str
) -> None:
    outputs = await _run_shelf(client, f"shelf-default-{workflow.replace('_', '-')}", workflow=workflow)
    assert outputs == {"o0": "default:only.txt=alone"}


# flytekit hands a directory named in a dataclass on the command line to the task as the client's
# own path (it uploads none): readable here, where client and tasks share a machine.
@pytest.mark.parametrize("store", ["file"], indirect=True)
async def test_a_dataclass_given_a_one_file_directory_on_the_command_line_arrives_as_that_directory(
    client: Flytekit, tmp_path: Path
) -> None:
    directory = _files(tmp_path / "given", {"given.txt": "handed over"})
    shelf = json.dumps({"label": "given", "books": {"path": str(directory)}})
    outputs = await _run_shelf(client, "shelf-given", "--shelf", shelf)
    assert outputs == {"o0": "given:given.txt=handed over"}


@pytest.mark.parametrize("store", ["file"], indirect=True)
async def test_a_dataframe_from_the_users_machine_is_read_in_the_task(
    client: Flytekit, flytekit_venv: Path, tmp_path: Path
) -> None:
    data = tmp_path / "frame.parquet"
    write = f"import pandas; pandas.DataFrame({{'a': [1, 2, 3]}}).to_parquet({str(data)!r})"
    await asyncio.to_thread(subprocess.run, [flytekit_venv / "python", "-c", write], check=True, timeout=120)
    await client.run_remote("user_data/frames.py", "frames_wf", "--df", str(data), name="frame-from-client")
    answer: dict[str, Any] = await client.remote(
        PROBE, {"action": "wait_for", "execution_name": "frame-from-client"}, time_limit=240
    )
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"]))) == {"o0": 3}
