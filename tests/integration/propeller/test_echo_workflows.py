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


async def test_a_map_task_of_echo_elements_gathers_every_element(plane: RunningPlane) -> None:
    from flyteidl_py.core import literals_pb2
    from tests.support.echo import echo_list_task, mapped

    await register(plane.stub, [echo_list_task(), *mapped("map50")])
    xs = literals_pb2.Literal(
        collection=literals_pb2.LiteralCollection(
            literals=[
                literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=i)))
                for i in range(50)
            ]
        )
    )
    execution = await launch(plane.stub, "map50", literals_pb2.LiteralMap(literals={"xs": xs}))
    done = await wait(plane.stub, execution)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    result = await outputs(plane.stub, execution)
    assert [x.scalar.primitive.integer for x in result.literals["xs"].collection.literals] == list(range(50))
