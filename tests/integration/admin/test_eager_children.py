"""Executions an eager task launches are recorded as node executions under its node (admin.managers.eager).

The tests play flytekit's eager controller (CreateExecution labelled `eager-exec: <parent name>`) and
the engine (the parent's events, then the child's); flytekit itself drives this in
tests/e2e/test_eager_nodes.py.
"""

from __future__ import annotations

import grpc
import pytest

from flyteidl_py.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    project_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import (
    DOMAIN,
    NODE,
    PROJECT,
    TASK,
    WF,
    ints,
    launch,
    lp_id,
    node_event,
    register,
    task_event,
    task_id,
    wf_event,
)
from tests.support.packages import load_package
from tests.support.paths import fixtures_dir

EAGER_NODE = "n0"
EAGER_TASK = "examples.configured.retried"
MODE = execution_pb2.ExecutionMetadata


async def _running_eager_parent(
    stub: admin_pb2_grpc.AdminServiceStub, name: str
) -> identifier_pb2.WorkflowExecutionIdentifier:
    """An execution whose node n0 runs an eager task (its attempt: a fixture task), as the engine reports it."""
    ident = await launch(stub, name=name)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
    await stub.CreateNodeEvent(node_event(ident, EAGER_NODE, NODE.RUNNING, 2, is_eager=True))
    await stub.CreateTaskEvent(task_event(ident, EAGER_NODE, EAGER_TASK, 0, TASK.RUNNING, 2))
    return ident


async def _launch_labelled(
    stub: admin_pb2_grpc.AdminServiceStub,
    name: str,
    parent_name: str,
    *,
    project: str = PROJECT,
    task: bool = True,
) -> identifier_pb2.WorkflowExecutionIdentifier:
    """What flytekit's eager controller sends for a task it calls: a labelled single-task execution."""
    target = task_id("examples.configured.retried") if task else lp_id("examples.configured.configured_wf")
    target.project = project
    spec = execution_pb2.ExecutionSpec(launch_plan=target)
    spec.labels.values.update({"eager-exec": parent_name, "eager-root-exec": parent_name})
    response = await stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(project=project, domain=DOMAIN, name=name, spec=spec, inputs=ints(x=4))
    )
    return response.id


async def _children(
    stub: admin_pb2_grpc.AdminServiceStub, parent: identifier_pb2.WorkflowExecutionIdentifier
) -> list[node_execution_pb2.NodeExecution]:
    listing = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=parent, unique_parent_id=EAGER_NODE, limit=100
        )
    )
    return list(listing.node_executions)


async def _execution(
    stub: admin_pb2_grpc.AdminServiceStub, ident: identifier_pb2.WorkflowExecutionIdentifier
) -> execution_pb2.Execution:
    return await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))


async def test_each_execution_an_eager_task_launches_is_a_child_node_of_its_node(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    await register(stub)
    parent = await _running_eager_parent(stub, "eager-parent")
    first = await _launch_labelled(stub, "e-first", parent.name)
    second = await _launch_labelled(stub, "e-second", parent.name, task=False)

    children = await _children(stub, parent)
    assert [c.id.node_id for c in children] == ["n0-e-first", "n0-e-second"]
    assert [c.closure.workflow_node_metadata.executionId for c in children] == [first, second]
    assert [c.metadata.spec_node_id for c in children] == ["eager-call", "eager-call"]
    assert {c.closure.phase for c in children} == {NODE.QUEUED}
    child_data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=first))
    node_data = await stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=children[0].id))
    assert node_data.full_inputs == child_data.full_inputs
    assert children[0].input_uri == child_data.inputs.url

    eager_node = await stub.GetNodeExecution(
        node_execution_pb2.NodeExecutionGetRequest(
            id=identifier_pb2.NodeExecutionIdentifier(execution_id=parent, node_id=EAGER_NODE)
        )
    )
    assert eager_node.metadata.is_parent_node and eager_node.metadata.is_eager
    # The top level stays the parent's own graph (FlyteRemote maps every top-level node onto it).
    top = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=parent, limit=100)
    )
    assert [n.id.node_id for n in top.node_executions] == [EAGER_NODE]

    metadata = (await _execution(stub, first)).spec.metadata
    assert metadata.mode == MODE.CHILD_WORKFLOW
    assert metadata.parent_node_execution == children[0].id
    assert metadata.nesting == 1


async def test_a_child_node_follows_its_execution_to_its_outputs(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    parent = await _running_eager_parent(stub, "eager-parent")
    child = await _launch_labelled(stub, "e-child", parent.name)
    await stub.CreateWorkflowEvent(wf_event(child, WF.RUNNING, 3))
    [node] = await _children(stub, parent)
    assert node.closure.phase == NODE.RUNNING
    assert node.closure.started_at.seconds > 0
    await stub.CreateWorkflowEvent(wf_event(child, WF.SUCCEEDED, 8, output_uri="file:///child/outputs.pb"))
    [node] = await _children(stub, parent)
    assert node.closure.phase == NODE.SUCCEEDED
    assert node.closure.output_uri == "file:///child/outputs.pb"
    assert node.closure.duration.seconds == 5

    failing = await _launch_labelled(stub, "e-failing", parent.name)
    await stub.CreateWorkflowEvent(wf_event(failing, WF.RUNNING, 9))
    error = {"code": "USER:Boom", "message": "boom"}
    await stub.CreateWorkflowEvent(wf_event(failing, WF.FAILED, 10, error=error))
    failed = next(n for n in await _children(stub, parent) if n.id.node_id == "n0-e-failing")
    assert failed.closure.phase == NODE.FAILED
    assert failed.closure.error.message == "boom"


async def test_the_eager_node_serves_a_dynamic_workflow_whose_one_call_node_every_child_maps_to(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    # A client reads the workflow, then lists the children: a child launched in between maps to it too.
    await register(stub)
    parent = await _running_eager_parent(stub, "eager-parent")
    await _launch_labelled(stub, "e-task", parent.name)
    eager_id = identifier_pb2.NodeExecutionIdentifier(execution_id=parent, node_id=EAGER_NODE)
    data = await stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=eager_id))
    await _launch_labelled(stub, "e-workflow", parent.name, task=False)
    compiled = data.dynamic_workflow.compiled_workflow
    [call] = compiled.primary.template.nodes
    assert call.id == "eager-call"
    assert call.task_node.reference_id.name == EAGER_TASK
    assert [t.template.id for t in compiled.tasks] == [call.task_node.reference_id]
    assert {c.metadata.spec_node_id for c in await _children(stub, parent)} == {call.id}
    dynamic = await stub.GetDynamicNodeWorkflow(node_execution_pb2.GetDynamicNodeWorkflowRequest(id=eager_id))
    assert dynamic.compiled_workflow == compiled


async def test_a_single_task_childs_node_carries_the_tasks_generated_workflow(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    # FlyteRemote follows a launch-plan node's link only into launch-plan executions: a single task's
    # node is read as a parent node through the workflow its data carries instead.
    await register(stub)
    parent = await _running_eager_parent(stub, "eager-parent")
    await _launch_labelled(stub, "e-task", parent.name)
    await _launch_labelled(stub, "e-workflow", parent.name, task=False)
    task_child, workflow_child = await _children(stub, parent)
    assert task_child.metadata.is_parent_node and not workflow_child.metadata.is_parent_node
    data = await stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=task_child.id))
    template = data.dynamic_workflow.compiled_workflow.primary.template
    assert template.id.name == ".flytegen.examples.configured.retried"
    assert [t.template.id.name for t in data.dynamic_workflow.compiled_workflow.tasks] == [
        "examples.configured.retried"
    ]
    assert (
        await stub.ListNodeExecutions(
            node_execution_pb2.NodeExecutionListRequest(
                workflow_execution_id=parent, unique_parent_id=task_child.id.node_id, limit=100
            )
        )
    ).node_executions == []
    data = await stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=workflow_child.id))
    assert not data.HasField("dynamic_workflow")


async def test_launching_a_child_again_under_its_name_adds_no_second_node(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    await register(stub)
    parent = await _running_eager_parent(stub, "eager-parent")
    await _launch_labelled(stub, "e-again", parent.name)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _launch_labelled(stub, "e-again", parent.name)
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert [c.id.node_id for c in await _children(stub, parent)] == ["n0-e-again"]


async def _register_in(stub: admin_pb2_grpc.AdminServiceStub, project: str) -> None:
    await stub.RegisterProject(
        project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=project, name=project))
    )
    for request in load_package(fixtures_dir() / "examples-package-fast.tgz", project=project).requests():
        if isinstance(request, task_pb2.TaskCreateRequest):
            await stub.CreateTask(request)
        elif isinstance(request, workflow_pb2.WorkflowCreateRequest):
            await stub.CreateWorkflow(request)
        else:
            assert isinstance(request, launch_plan_pb2.LaunchPlanCreateRequest)
            await stub.CreateLaunchPlan(request)


async def _assert_on_its_own(
    stub: admin_pb2_grpc.AdminServiceStub, child: identifier_pb2.WorkflowExecutionIdentifier
) -> None:
    metadata = (await _execution(stub, child)).spec.metadata
    assert metadata.mode == MODE.MANUAL
    assert not metadata.parent_node_execution.node_id


async def test_a_label_naming_another_projects_eager_execution_attaches_nothing(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    await register(stub)
    await _register_in(stub, "other")
    victim = await launch(stub, name="victim")  # a running eager execution of project flytesnacks
    await stub.CreateWorkflowEvent(wf_event(victim, WF.RUNNING, 1))
    await stub.CreateNodeEvent(node_event(victim, EAGER_NODE, NODE.RUNNING, 2, is_eager=True))
    forged = await _launch_labelled(stub, "e-forged", victim.name, project="other")
    assert await _children(stub, victim) == []
    await _assert_on_its_own(stub, forged)


async def test_a_label_naming_a_finished_or_non_eager_execution_attaches_nothing(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    await register(stub)
    finished = await _running_eager_parent(stub, "finished")
    await stub.CreateNodeEvent(node_event(finished, EAGER_NODE, NODE.SUCCEEDED, 3))
    await stub.CreateWorkflowEvent(wf_event(finished, WF.SUCCEEDED, 4))
    plain = await launch(stub, name="plain")
    await stub.CreateWorkflowEvent(wf_event(plain, WF.RUNNING, 1))
    await stub.CreateNodeEvent(node_event(plain, EAGER_NODE, NODE.RUNNING, 2))
    for parent_name, child_name in (("finished", "e-late"), ("plain", "e-plain"), ("nobody", "e-orphan")):
        await _assert_on_its_own(stub, await _launch_labelled(stub, child_name, parent_name))
    assert await _children(stub, finished) == []
    assert await _children(stub, plain) == []


async def _register_eager_task(stub: admin_pb2_grpc.AdminServiceStub, name: str) -> identifier_pb2.Identifier:
    """A task marked eager, as flytekit registers an `@eager` task (a copy of a fixture task otherwise)."""
    template = (
        await stub.GetTask(common_pb2.ObjectGetRequest(id=task_id("examples.configured.retried")))
    ).closure.compiled_task.template
    template.id.name = name
    template.metadata.is_eager = True
    await stub.CreateTask(task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template)))
    return template.id


async def test_a_child_launched_before_admin_hears_of_the_eager_node_is_attached_by_its_first_event(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    await register(stub)
    eager_task = await _register_eager_task(stub, "examples.eagerly")
    created = await stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT,
            domain=DOMAIN,
            name="eager-single",
            spec=execution_pb2.ExecutionSpec(launch_plan=eager_task),
            inputs=ints(x=1),
        )
    )
    parent = created.id
    await stub.CreateWorkflowEvent(wf_event(parent, WF.RUNNING, 1))
    # The task's first launch arrives before the engine's event for its node (delivered late).
    early = await _launch_labelled(stub, "e-early", parent.name)
    await stub.CreateWorkflowEvent(wf_event(early, WF.RUNNING, 2))
    await _assert_on_its_own(stub, early)
    node_id = "exampleseagerly"  # the generated workflow's node for the task
    await stub.CreateNodeEvent(node_event(parent, node_id, NODE.RUNNING, 3, is_eager=True))

    listing = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=parent, unique_parent_id=node_id, limit=10)
    )
    [child] = listing.node_executions
    assert child.id.node_id == f"{node_id}-e-early"
    assert child.closure.workflow_node_metadata.executionId == early
    assert child.closure.phase == NODE.RUNNING  # caught up with what the child reported meanwhile
    metadata = (await _execution(stub, early)).spec.metadata
    assert metadata.mode == MODE.CHILD_WORKFLOW
    assert metadata.parent_node_execution == child.id
    # Before any attempt is reported, the eager task is found in the execution's workflow.
    data = await stub.GetNodeExecutionData(
        node_execution_pb2.NodeExecutionGetDataRequest(
            id=identifier_pb2.NodeExecutionIdentifier(execution_id=parent, node_id=node_id)
        )
    )
    [call] = data.dynamic_workflow.compiled_workflow.primary.template.nodes
    assert call.task_node.reference_id == eager_task
    # Later events of the eager node attach nothing twice.
    await stub.CreateNodeEvent(node_event(parent, node_id, NODE.QUEUED, 4, is_eager=True))
    listing = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=parent, unique_parent_id=node_id, limit=10)
    )
    assert len(listing.node_executions) == 1
