"""A flytekit task process that dies without writing error.pb fails on the task's own retry budget, as in Flyte.

Admin, propeller and the local backend run together (tests.support.plane); the task is real flytekit
(`warmtasks.crash`, which calls `os._exit(3)` inside the task body, before flytekit could write error.pb).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import launch_plan_pb2, task_execution_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl_py.core import workflow_pb2 as core_wf
from tests.integration.plugins.local.test_warm import nap_task, warm_tasks_root
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import ident
from tests.support.plane import RunningPlane, plane_config, running_plane

__all__ = ["warm_tasks_root"]  # a fixture, shared with the warm-start tests

INT = types_pb2.LiteralType(simple=types_pb2.INTEGER)


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, warm_tasks_root: Path
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    environment = {"venv": str(flytekit_venv), "python_path": [str(warm_tasks_root)]}
    local = {"default_environment": environment, "work_dir": str(directory / "local-tasks")}
    config = plane_config(
        directory,
        f"sqlite:///{directory}/admin.db",
        f"sqlite:///{directory}/propeller.db",
        plugins={"backends": {"local": local}},
    )
    async with running_plane(config) as running:
        yield running


def crashing_workflow(name: str, retries: int) -> list[object]:
    """Registration requests: `warmtasks.crash` with `retries`, in a one-node workflow and its launch plan."""
    template = tasks_pb2.TaskTemplate()
    template.CopyFrom(nap_task("crash"))
    template.id.CopyFrom(ident(identifier_pb2.TASK, name))
    template.metadata.retries.retries = retries
    task = task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))
    variables = interface_pb2.VariableMap(variables={"x": interface_pb2.Variable(type=INT)})
    node = core_wf.Node(
        id="n0",
        inputs=[
            literals_pb2.Binding(
                var="x", binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id="", var="x"))
            )
        ],
        task_node=core_wf.TaskNode(reference_id=template.id),
    )
    workflow = core_wf.WorkflowTemplate(
        id=ident(identifier_pb2.WORKFLOW, name),
        interface=interface_pb2.TypedInterface(inputs=variables, outputs=interface_pb2.VariableMap()),
        nodes=[node],
    )
    return [
        task,
        workflow_pb2.WorkflowCreateRequest(id=workflow.id, spec=workflow_pb2.WorkflowSpec(template=workflow)),
        launch_plan_pb2.LaunchPlanCreateRequest(
            id=ident(identifier_pb2.LAUNCH_PLAN, name),
            spec=launch_plan_pb2.LaunchPlanSpec(
                workflow_id=workflow.id,
                default_inputs=interface_pb2.ParameterMap(
                    parameters={"x": interface_pb2.Parameter(var=interface_pb2.Variable(type=INT), required=True)}
                ),
            ),
        ),
    ]


async def attempts_of(plane: RunningPlane, execution: identifier_pb2.WorkflowExecutionIdentifier) -> int:
    node = identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=execution)
    found = await plane.stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=100)
    )
    return len(found.task_executions)


@pytest.mark.parametrize(("retries", "attempts"), [(0, 1), (2, 3)])
async def test_a_process_that_exits_non_zero_without_error_pb_is_retried_on_the_tasks_own_budget(
    plane: RunningPlane, retries: int, attempts: int
) -> None:
    name = f"tests.crash{retries}"
    await register(plane.stub, crashing_workflow(name, retries))
    execution = await launch(plane.stub, name, ints(x=1))
    result = await wait(plane.stub, execution, limit=120.0)
    assert result.closure.phase == core.WorkflowExecution.FAILED
    error = result.closure.error
    assert error.kind == core.ExecutionError.USER, error
    assert "exited with code 3" in error.message
    assert "task.log" in error.message  # it points at the log
    assert await attempts_of(plane, execution) == attempts
