"""A real flytekit map task of a thousand elements on the local backend's defaults (warm fork): it runs to the
end with every element's output in its place, and its task execution reports every element SUCCEEDED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from tests.integration.propeller.helpers import wait
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane

MAP_CASES = Path(__file__).with_name("map_cases")
VERSION = "large-map-v1"
ELEMENTS = 1_000


@pytest.fixture
async def map_plane(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    async with running_plane(local_plane_config(tmp_path, flytekit_venv)) as plane:
        yield plane


async def test_a_map_task_of_thousands_of_elements_gathers_every_elements_output(
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
        name="map_cases.large_map.large_map_wf",
        version=VERSION,
    )
    n = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=ELEMENTS)))
    created = await map_plane.stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=client.project,
            domain=client.domain,
            spec=execution_pb2.ExecutionSpec(launch_plan=lp),
            inputs=literals_pb2.LiteralMap(literals={"n": n}),
        )
    )
    execution = await wait(map_plane.stub, created.id, limit=600)

    assert execution.closure.phase == core.WorkflowExecution.SUCCEEDED, execution.closure.error.message
    data = await map_plane.stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=created.id))
    mapped = [literal.scalar.primitive.integer for literal in data.full_outputs.literals["o0"].collection.literals]
    assert mapped == [x + 1 for x in range(ELEMENTS)]
    node = identifier_pb2.NodeExecutionIdentifier(execution_id=created.id, node_id="n1")
    found = await map_plane.stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=10)
    )
    phases = {r.index: r.phase for t in found.task_executions for r in t.closure.metadata.external_resources}
    assert phases == dict.fromkeys(range(ELEMENTS), core.TaskExecution.SUCCEEDED)
