"""Recovery mode: RecoverExecution reuses the outputs of every node that succeeded in the original execution.

The failing node is a `fail-once` task (tests/support/plugin_doubles.py): it fails the first time a
node of its id runs and succeeds afterwards, so the original fails there and the recovery gets past it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2, node_execution_pb2, task_execution_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.propeller.helpers import ints, launch, outputs, register, wait
from tests.support.echo import chain, echo_task, fan_out, ident
from tests.support.plane import RunningPlane, plane_config, running_plane

PLUGINS = {"factories": {"fail-once": "tests.support.plugin_doubles:fail_once"}}


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=PLUGINS
    )
    async with running_plane(config) as running:
        yield running


def chain_failing_at_the_end(name: str, length: int) -> list[object]:
    """A chain of echo tasks whose last node runs a `fail-once` task."""
    failing = echo_task("fail-once.int")
    failing.spec.template.type = "fail-once"
    requests = chain(name, length)
    workflow = requests[0]
    assert isinstance(workflow, workflow_pb2.WorkflowCreateRequest)
    workflow.spec.template.nodes[-1].task_node.reference_id.CopyFrom(ident(identifier_pb2.TASK, "fail-once.int"))
    return [echo_task(), failing, *requests]


async def node_phases(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> dict[str, int]:
    nodes = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
    )
    return {n.id.node_id: n.closure.phase for n in nodes.node_executions if n.id.node_id.startswith("n")}


async def task_attempts(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier, node: str
) -> list[int]:
    found = await stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=node), limit=10
        )
    )
    return [t.closure.phase for t in found.task_executions]


async def recover(
    stub: admin_pb2_grpc.AdminServiceStub, original: identifier_pb2.WorkflowExecutionIdentifier
) -> identifier_pb2.WorkflowExecutionIdentifier:
    response = await stub.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=original))
    return response.id


async def test_a_recovery_reuses_the_succeeded_nodes_and_runs_the_failed_one(plane: RunningPlane) -> None:
    stub = plane.stub
    await register(stub, chain_failing_at_the_end("recover4", 4))
    original = await launch(stub, "recover4", ints(x=42))
    failed = await wait(stub, original)
    assert failed.closure.phase == core.WorkflowExecution.FAILED
    assert "fails the first time" in failed.closure.error.message

    recovery = await recover(stub, original)
    done = await wait(stub, recovery)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert done.spec.metadata.mode == execution_pb2.ExecutionMetadata.RECOVERED
    assert (await outputs(stub, recovery)).literals["x"].scalar.primitive.integer == 42
    assert await node_phases(stub, recovery) == {
        "n0": core.NodeExecution.RECOVERED,
        "n1": core.NodeExecution.RECOVERED,
        "n2": core.NodeExecution.RECOVERED,
        "n3": core.NodeExecution.SUCCEEDED,
    }
    for node in ("n0", "n1", "n2"):
        assert await task_attempts(stub, recovery, node) == [], f"{node} ran again"
    assert await task_attempts(stub, recovery, "n3") == [core.TaskExecution.SUCCEEDED]
    # The recovered nodes' data is in place, as if they had run in this execution.
    data = await stub.GetNodeExecutionData(
        node_execution_pb2.NodeExecutionGetDataRequest(
            id=identifier_pb2.NodeExecutionIdentifier(execution_id=recovery, node_id="n1")
        )
    )
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 42
    assert data.full_outputs.literals["x"].scalar.primitive.integer == 42


async def test_recovering_a_succeeded_execution_runs_no_task(plane: RunningPlane) -> None:
    stub = plane.stub
    await register(stub, [echo_task(), *fan_out("fan5", 5)])
    original = await launch(stub, "fan5", ints(x=7))
    assert (await wait(stub, original)).closure.phase == core.WorkflowExecution.SUCCEEDED

    recovery = await recover(stub, original)
    done = await wait(stub, recovery)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert (await outputs(stub, recovery)).literals["x"].scalar.primitive.integer == 7
    assert await node_phases(stub, recovery) == {f"n{i}": core.NodeExecution.RECOVERED for i in range(5)}
    for i in range(5):
        assert await task_attempts(stub, recovery, f"n{i}") == []


async def test_a_relaunch_runs_every_node_again(plane: RunningPlane) -> None:
    stub = plane.stub
    await register(stub, [echo_task(), *chain("relaunch3", 3)])
    original = await launch(stub, "relaunch3", ints(x=3))
    assert (await wait(stub, original)).closure.phase == core.WorkflowExecution.SUCCEEDED

    relaunch = (await stub.RelaunchExecution(execution_pb2.ExecutionRelaunchRequest(id=original))).id
    done = await wait(stub, relaunch)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert await node_phases(stub, relaunch) == {f"n{i}": core.NodeExecution.SUCCEEDED for i in range(3)}
