"""An execution's max_parallelism bounds how many task nodes run at once, and a finished node frees its
slot for the next one (admin defaults max_parallelism to 25, so every fan-out goes through this)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2, node_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.integration.propeller.helpers import ints, outputs, register, wait
from tests.support.echo import DOMAIN, PROJECT, echo_task, fan_out, ident
from tests.support.plane import RunningPlane, plane_config, running_plane

SECONDS = 0.5
PLUGINS = {
    "factories": {"sleep": "tests.support.plugin_doubles:sleep"},
    "backends": {"sleep": {"seconds": SECONDS}},
}


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=PLUGINS
    )
    async with running_plane(config) as running:
        yield running


def sleep_task() -> object:
    request = echo_task("sleep.int")
    request.spec.template.type = "sleep"
    return request


async def launch_with(
    plane: RunningPlane, lp: str, x: int, max_parallelism: int
) -> identifier_pb2.WorkflowExecutionIdentifier:
    response = await plane.stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT,
            domain=DOMAIN,
            spec=execution_pb2.ExecutionSpec(
                launch_plan=ident(identifier_pb2.LAUNCH_PLAN, lp), max_parallelism=max_parallelism
            ),
            inputs=ints(x=x),
        )
    )
    return response.id


async def task_intervals(
    plane: RunningPlane, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> list[tuple[float, float]]:
    nodes = await plane.stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
    )
    intervals = []
    for node in nodes.node_executions:
        if not node.id.node_id.startswith("n"):
            continue
        assert node.closure.phase == core.NodeExecution.SUCCEEDED, node.id.node_id
        began = node.closure.started_at.ToNanoseconds() / 1e9
        intervals.append((began, began + node.closure.duration.ToNanoseconds() / 1e9))
    return intervals


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals that overlap at one instant (touching ends do not overlap)."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


async def test_no_more_task_nodes_run_at_once_than_max_parallelism(plane: RunningPlane) -> None:
    await register(plane.stub, [sleep_task(), *fan_out("sleepy6", 6, task="sleep.int")])
    execution = await launch_with(plane, "sleepy6", 5, max_parallelism=2)
    done = await wait(plane.stub, execution, limit=60)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert (await outputs(plane.stub, execution)).literals["x"].scalar.primitive.integer == 5
    intervals = await task_intervals(plane, execution)
    assert len(intervals) == 6
    assert all(end - start >= SECONDS for start, end in intervals)
    assert most_at_once(intervals) <= 2
    # Three waves of two: the slots were handed on, none was lost.
    assert done.closure.duration.ToNanoseconds() / 1e9 >= 3 * SECONDS


async def test_nodes_that_finish_at_once_hand_their_slot_on_within_the_round(plane: RunningPlane) -> None:
    # 300 echo nodes under max_parallelism 2: each finishes in the call that starts it, so the
    # execution completes, and every node ran exactly once.
    await register(plane.stub, [echo_task(), *fan_out("fan300", 300)])
    execution = await launch_with(plane, "fan300", 9, max_parallelism=2)
    done = await wait(plane.stub, execution, limit=120)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    nodes = await plane.stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=400)
    )
    ids = [n.id.node_id for n in nodes.node_executions if n.id.node_id.startswith("n")]
    assert sorted(ids) == sorted(f"n{i}" for i in range(300))
    assert all(n.closure.phase == core.NodeExecution.SUCCEEDED for n in nodes.node_executions)
