"""A real flytekit map task that fails: the execution's error names the failed element's index and its own
message, and the elements still running are aborted at once, not waited for (they would sleep ten minutes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.integration.propeller.helpers import wait
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane

MAP_CASES = Path(__file__).with_name("map_cases")
VERSION = "map-v1"


@pytest.fixture
async def map_plane(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    async with running_plane(local_plane_config(tmp_path, flytekit_venv)) as plane:
        yield plane


def _alive(pid: int) -> bool:
    """Whether `pid` is a process that has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _runner_pids(work_dir: Path) -> list[int]:
    return [json.loads(path.read_text())["pid"] for path in work_dir.glob("*/runner.json")]


async def test_a_failed_map_task_reports_the_elements_error_and_aborts_the_sleeping_elements(
    map_plane: RunningPlane, flytekit_venv: Path, tmp_path: Path
) -> None:
    admin = map_plane.admin
    client = Flytekit.for_admin(flytekit_venv, admin.grpc_port, admin.http_port, tmp_path / "project")
    client.add_package(MAP_CASES, "map_cases")
    await client.register("map_cases", version=VERSION)
    lp = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN,
        project=client.project,
        domain=client.domain,
        name="map_cases.failing_map.failing_map_wf",
        version=VERSION,
    )
    created = await map_plane.stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=client.project, domain=client.domain, spec=execution_pb2.ExecutionSpec(launch_plan=lp)
        )
    )
    execution = await wait(map_plane.stub, created.id, limit=300)  # the sleeping elements would take 600 s

    assert execution.closure.phase == core.WorkflowExecution.FAILED
    message = execution.closure.error.message
    assert "[3]: " in message and "bad 3" in message, message
    assert "1 of the array's 5 elements failed" in message and "4 aborted" in message, message
    node = identifier_pb2.NodeExecutionIdentifier(execution_id=created.id, node_id="n0")
    found = await map_plane.stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=10)
    )
    phases = {r.index: r.phase for t in found.task_executions for r in t.closure.metadata.external_resources}
    assert phases == {i: core.TaskExecution.ABORTED for i in (0, 1, 2, 4)} | {3: core.TaskExecution.FAILED}
    # The aborted elements' processes are gone (given a moment to be reaped).
    pids = await asyncio.to_thread(_runner_pids, tmp_path / "local-tasks")
    assert len(pids) == 5
    for _ in range(150):
        if not any(_alive(pid) for pid in pids):
            break
        await asyncio.sleep(0.2)
    assert not [pid for pid in pids if _alive(pid)]
