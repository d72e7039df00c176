"""Real flytekit workflows with a failure node (`@workflow(on_failure=...)`): the workflow fails with the
error of the task that raised, and the clean-up, a task or a workflow, has run with the workflow's inputs
and that error; FlyteRemote sees the clean-up as a node of the execution (failure_cases/clean_ups.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2 as core
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane

FAILURE_CASES = Path(__file__).with_name("failure_cases")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
VERSION = "failure-v1"


@pytest.fixture(scope="module")
async def failure_plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    async with running_plane(local_plane_config(tmp_path_factory.mktemp("plane"), flytekit_venv)) as plane:
        yield plane


@pytest.fixture(scope="module")
async def client(
    failure_plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Flytekit:
    admin = failure_plane.admin
    flytekit = Flytekit.for_admin(flytekit_venv, admin.grpc_port, admin.http_port, tmp_path_factory.mktemp("project"))
    flytekit.add_package(FAILURE_CASES, "failure_cases")
    await flytekit.register("failure_cases", version=VERSION)
    return flytekit


async def _run(client: Flytekit, launch_plan: str, **inputs: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await client.remote(
        PROBE,
        {"action": "execute_and_wait", "name": launch_plan, "version": VERSION, "inputs": inputs},
        time_limit=240,
    )
    return answer


async def test_a_clean_up_task_runs_with_the_inputs_and_the_error_of_the_failed_workflow(
    client: Flytekit, tmp_path: Path
) -> None:
    marker = tmp_path / "cleaned.json"
    answer = await _run(client, "failure_cases.clean_ups.cleaned_up_by_task", x=3, marker=str(marker))
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "exploded on 30" in answer["error"]  # the original error, not the clean-up's
    nodes = answer["nodes"]
    assert nodes["n1"]["phase"] == core.NodeExecution.FAILED
    assert nodes["fn0"]["phase"] == core.NodeExecution.SUCCEEDED
    assert nodes["fn0"]["attempts"] == 1
    seen = json.loads(marker.read_text())
    assert seen["x"] == 3
    assert "exploded on 30" in seen["message"]
    assert seen["failed_node_id"] == "fn0"


async def test_a_clean_up_workflow_runs_as_the_failure_node(client: Flytekit, tmp_path: Path) -> None:
    marker = tmp_path / "cleaned.json"
    answer = await _run(client, "failure_cases.clean_ups.cleaned_up_by_workflow", x=5, marker=str(marker))
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "exploded on 50" in answer["error"]
    assert answer["nodes"]["fn0"]["phase"] == core.NodeExecution.SUCCEEDED
    assert json.loads(marker.read_text()) == {"x": 5, "message": None, "failed_node_id": None}
