"""The engine runs workflows of echo tasks end to end through admin: the graph machinery without task processes."""

from __future__ import annotations

from flyteidl_py.admin import node_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from tests.integration.propeller.helpers import ints, launch, outputs, register, wait
from tests.support.echo import chain, echo_task, fan_out
from tests.support.plane import RunningPlane


async def test_a_chain_of_echo_tasks_succeeds_with_its_input_as_output(plane: RunningPlane) -> None:
    await register(plane.stub, [echo_task(), *chain("chain5", 5)])
    execution = await launch(plane.stub, "chain5", ints(x=42))
    done = await wait(plane.stub, execution)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    result = await outputs(plane.stub, execution)
    assert result.literals["x"].scalar.primitive.integer == 42
    nodes = await plane.stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
    )
    phases = {n.id.node_id: n.closure.phase for n in nodes.node_executions}
    assert {k: v for k, v in phases.items() if k.startswith("n")} == {
        f"n{i}": core.NodeExecution.SUCCEEDED for i in range(5)
    }


async def test_a_fan_out_runs_every_branch(plane: RunningPlane) -> None:
    await register(plane.stub, [echo_task(), *fan_out("fan20", 20)])
    execution = await launch(plane.stub, "fan20", ints(x=7))
    done = await wait(plane.stub, execution)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    nodes = await plane.stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
    )
    assert sum(n.closure.phase == core.NodeExecution.SUCCEEDED for n in nodes.node_executions) == 22
