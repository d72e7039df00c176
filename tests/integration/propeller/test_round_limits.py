"""A round starts a limited number of nodes, for a limited time; what is left runs in the next round, at once.

The limits (`max_nodes_per_round`, `max_starts_per_pass`, `round_seconds`) keep a round's length from growing
with the graph's width. When a scope nested in a node (here a sub-workflow) stops for them, its node's phase does
not change, so the round must still ask for the next one: these executions stop for the limits many times, and
with the periodic re-evaluation far away (`resync_seconds`) an execution that waited for it would not finish
within the wait below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.admin import node_execution_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.core import workflow_pb2 as core_wf
from tests.integration.propeller.helpers import ints, launch, outputs, register, wait
from tests.support.echo import echo_task, fan_out
from tests.support.plane import RunningPlane, plane_config, running_plane

WIDTH = 40
LIMITS = {
    "few nodes per round": {"max_nodes_per_round": 3},
    "short rounds": {"round_seconds": 0.001, "max_starts_per_pass": 2},
}


@pytest.fixture(params=sorted(LIMITS))
async def plane(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    limits: dict[str, Any] = {**LIMITS[request.param], "resync_seconds": 600.0}
    config = config.model_copy(update={"propeller": config.propeller.model_copy(update=limits)})
    async with running_plane(config) as running:
        yield running


def in_sub_workflow(name: str, inner: list[object]) -> list[object]:
    """A workflow `name` whose one node runs the workflow of `inner` (registration requests) as a sub-workflow."""
    inner_request, _ = inner
    assert isinstance(inner_request, workflow_pb2.WorkflowCreateRequest)
    sub = inner_request.spec.template
    outer = fan_out(name, 1)
    request = outer[0]
    assert isinstance(request, workflow_pb2.WorkflowCreateRequest)
    node = request.spec.template.nodes[0]
    node.ClearField("task_node")
    node.workflow_node.CopyFrom(core_wf.WorkflowNode(sub_workflow_ref=sub.id))
    request.spec.sub_workflows.append(sub)
    return outer


async def succeeded_nodes(plane: RunningPlane, execution: identifier_pb2.WorkflowExecutionIdentifier) -> int:
    count, token = 0, ""
    while True:
        page = await plane.stub.ListNodeExecutions(
            node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100, token=token)
        )
        count += sum(n.closure.phase == core.NodeExecution.SUCCEEDED for n in page.node_executions)
        token = page.token
        if not token:
            return count


async def test_a_wide_fan_out_runs_over_many_rounds_without_waiting_between_them(plane: RunningPlane) -> None:
    await register(plane.stub, [echo_task(), *fan_out("wide", WIDTH)])
    execution = await launch(plane.stub, "wide", ints(x=5))
    done = await wait(plane.stub, execution, limit=120.0)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert (await outputs(plane.stub, execution)).literals["x"].scalar.primitive.integer == 5
    assert await succeeded_nodes(plane, execution) == WIDTH + 2  # and start-node, end-node


async def test_a_wide_sub_workflow_runs_over_many_rounds_without_waiting_between_them(plane: RunningPlane) -> None:
    await register(plane.stub, [echo_task(), *in_sub_workflow("outer", fan_out("inner", WIDTH))])
    execution = await launch(plane.stub, "outer", ints(x=9))
    done = await wait(plane.stub, execution, limit=120.0)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert (await outputs(plane.stub, execution)).literals["x"].scalar.primitive.integer == 9
    children = await plane.stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100, unique_parent_id="n0")
    )
    finished = [n for n in children.node_executions if n.closure.phase == core.NodeExecution.SUCCEEDED]
    assert len(finished) == WIDTH + 2, [n.id.node_id for n in children.node_executions]
