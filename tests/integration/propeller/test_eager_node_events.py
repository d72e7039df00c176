"""The engine marks the node of a task flytekit declared eager (`TaskMetadata.is_eager`) in its node events."""

from __future__ import annotations

from flyteidl_py.admin import node_execution_pb2, task_pb2
from flyteidl_py.core import execution_pb2 as core
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_task
from tests.support.plane import RunningPlane


def _eager_echo_task() -> task_pb2.TaskCreateRequest:
    request = echo_task("echo.eager")
    request.spec.template.metadata.is_eager = True
    return request


async def test_only_the_node_of_an_eager_task_is_reported_eager(plane: RunningPlane) -> None:
    eager_chain = chain("eager1", 1, task="echo.eager")
    await register(plane.stub, [echo_task(), _eager_echo_task(), *chain("plain1", 1), *eager_chain])
    seen = {}
    for workflow in ("eager1", "plain1"):
        execution = await launch(plane.stub, workflow, ints(x=1))
        done = await wait(plane.stub, execution)
        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
        nodes = await plane.stub.ListNodeExecutions(
            node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
        )
        seen[workflow] = {n.id.node_id: n.metadata.is_eager for n in nodes.node_executions}
    assert seen["eager1"]["n0"] is True
    assert seen["plain1"]["n0"] is False
    assert not any(eager for node_id, eager in seen["eager1"].items() if node_id != "n0")
