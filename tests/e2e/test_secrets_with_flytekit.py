"""Secrets created with `flyteplane secrets create` reach real flytekit tasks on the local backend, and nowhere else.

The plane runs on SQLite and the local store in one directory; the secrets go in through the
command line as a user would, and the workflows (tests/e2e/user_data/secret_reads.py) return digests
of what they read, so the test can check the values without the values being stored anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from tests.support.flytekit import Flytekit
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, local_plane_config, running_plane

USER_DATA = Path(__file__).with_name("user_data")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
VERSION = "secrets-v1"
PASSWORD = "pw-Zq81-never-stored-in-clear"
TOKEN = "tok-Rk27-never-stored-in-clear"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def _secrets_command(data_dir: Path, *args: str, value: bytes | None = None) -> str:
    """`flyteplane secrets ...` as a user runs it, against the plane's data directory."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "launcher.main", "secrets", *args, "--data-dir", str(data_dir),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(value or b""), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.fixture(scope="module")
async def plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    async with running_plane(local_plane_config(directory, flytekit_venv)) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    data_dir = plane.config.data_dir
    # One project-wide value that a domain's own value replaces, and one project-wide file secret.
    await _secrets_command(data_dir, "create", "--project", "flytesnacks", "db/password", value=b"stale\n")
    await _secrets_command(
        data_dir,
        "create",
        "--project",
        "flytesnacks",
        "--domain",
        "development",
        "db/password",
        value=f"{PASSWORD}\n".encode(),
    )
    await _secrets_command(data_dir, "create", "--project", "flytesnacks", "db/token", value=TOKEN.encode())
    flytekit = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    flytekit.add_package(USER_DATA, "user_data")
    await flytekit.register("user_data", version=VERSION)
    return flytekit


async def _run(client: Flytekit, launch_plan: str) -> dict[str, Any]:
    answer: dict[str, Any] = await client.remote(
        PROBE, {"action": "execute_and_wait", "name": launch_plan, "version": VERSION}, time_limit=240
    )
    return answer


def _files_holding(root: Path, needles: list[bytes]) -> list[str]:
    return [
        str(path)
        for path in root.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in needles)
    ]


async def test_the_listing_names_secrets_and_their_scopes_but_never_values(
    plane: RunningPlane, client: Flytekit
) -> None:
    listing = await _secrets_command(
        plane.config.data_dir, "list", "--project", "flytesnacks", "--domain", "development"
    )
    rows = [line.split("\t")[:2] for line in listing.strip().splitlines()[1:]]
    assert rows == [
        ["db/password", "flytesnacks/*"],
        ["db/password", "flytesnacks/development"],
        ["db/token", "flytesnacks/*"],
    ]
    assert PASSWORD not in listing and TOKEN not in listing


async def test_tasks_read_secrets_as_variables_as_files_and_under_their_own_names(client: Flytekit) -> None:
    answer = await _run(client, "user_data.secret_reads.secrets_wf")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    outputs = plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))
    assert outputs == {"o0": _digest(PASSWORD), "o1": _digest(TOKEN), "o2": _digest(PASSWORD)}


async def test_a_missing_secret_fails_the_task_before_it_starts_naming_group_and_key(client: Flytekit) -> None:
    answer = await _run(client, "user_data.secret_reads.absent_secret_wf")
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "SecretNotFound" in answer["error"] or "not found" in answer["error"], answer["error"]
    assert "group='db' key='absent'" in answer["error"], answer["error"]
    assert answer["nodes"]["n0"]["attempts"] == 1


async def test_values_are_in_no_database_store_or_task_directory_in_clear(
    plane: RunningPlane, client: Flytekit
) -> None:
    await _run(client, "user_data.secret_reads.secrets_wf")
    needles = [PASSWORD.encode(), TOKEN.encode(), b"stale"]
    # admin's database (events, closures), propeller's (records, outbox, the sealed secrets), the store
    # (inputs, outputs, task logs) and the local backend's attempt directories.
    assert await asyncio.to_thread(_files_holding, plane.config.data_dir, needles) == []
