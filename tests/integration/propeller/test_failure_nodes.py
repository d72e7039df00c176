"""A workflow's failure node (flytekit's `on_failure=`) runs once the workflow has failed, then the workflow fails.

The failing node is a `fail-once` task (tests/support/plugin_doubles.py: it fails the first time a node
of its id runs); the failure node is an echo task whose inputs are the workflow's `x` and flytekit's
`err: Optional[FlyteError] = None`, so its outputs show what it was given. Node ids and bindings are
those flytekit writes (failure node `fn0`, `err` bound to a NONE union at registration).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2, node_execution_pb2, task_execution_pb2, task_pb2
from flyteidl_py.admin import workflow_pb2 as admin_wf
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, interface_pb2, literals_pb2, types_pb2
from flyteidl_py.core import workflow_pb2 as core_wf
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_task, ident
from tests.support.plane import RunningPlane, plane_config, running_plane

PLUGINS = {"factories": {"fail-once": "tests.support.plugin_doubles:fail_once"}}
OPTIONAL_ERROR = types_pb2.LiteralType(
    union_type=types_pb2.UnionType(
        variants=[
            types_pb2.LiteralType(simple=types_pb2.ERROR, structure=types_pb2.TypeStructure(tag="FlyteError")),
            types_pb2.LiteralType(simple=types_pb2.NONE, structure=types_pb2.TypeStructure(tag="none")),
        ]
    )
)


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=PLUGINS
    )
    async with running_plane(config) as running:
        yield running


def clean_up_task(name: str = "clean-up", kind: str = "echo") -> task_pb2.TaskCreateRequest:
    """A task taking `x` and `err`, as a flytekit clean-up task declares them; an echo (or `kind`) task,
    so that its outputs are its inputs."""
    request = echo_task(name)
    request.spec.template.type = kind
    for side in (request.spec.template.interface.inputs, request.spec.template.interface.outputs):
        side.variables["err"].CopyFrom(interface_pb2.Variable(type=OPTIONAL_ERROR, description="err"))
    return request


def failure_node() -> core_wf.Node:
    none = literals_pb2.Literal()
    none.scalar.none_type.SetInParent()
    err = literals_pb2.BindingData()
    err.scalar.union.value.CopyFrom(none)
    err.scalar.union.type.CopyFrom(
        types_pb2.LiteralType(simple=types_pb2.NONE, structure=types_pb2.TypeStructure(tag="none"))
    )
    return core_wf.Node(
        id="fn0",
        metadata=core_wf.NodeMetadata(name="clean_up"),
        inputs=[
            literals_pb2.Binding(var="err", binding=err),
            literals_pb2.Binding(var="x", binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(var="x"))),
        ],
        task_node=core_wf.TaskNode(reference_id=ident(identifier_pb2.TASK, "clean-up")),
    )


def failing_chain(name: str, length: int, *, clean_up: str = "echo") -> list[object]:
    """A chain of echo tasks whose last node runs a `fail-once` task, with a clean-up task of kind `clean_up`
    as failure node."""
    failing = echo_task("fail-once.int")
    failing.spec.template.type = "fail-once"
    requests = chain(name, length)
    workflow = requests[0]
    assert isinstance(workflow, admin_wf.WorkflowCreateRequest)
    workflow.spec.template.nodes[-1].task_node.reference_id.CopyFrom(ident(identifier_pb2.TASK, "fail-once.int"))
    workflow.spec.template.failure_node.CopyFrom(failure_node())
    return [echo_task(), failing, clean_up_task("clean-up", clean_up), *requests]


async def node_executions(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> dict[str, node_execution_pb2.NodeExecution]:
    found = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
    )
    return {n.id.node_id: n for n in found.node_executions}


async def node_data(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier, node: str
) -> node_execution_pb2.NodeExecutionGetDataResponse:
    return await stub.GetNodeExecutionData(
        node_execution_pb2.NodeExecutionGetDataRequest(
            id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=node)
        )
    )


async def test_the_failure_node_runs_with_the_inputs_and_the_error_then_the_workflow_fails(
    plane: RunningPlane,
) -> None:
    stub = plane.stub
    await register(stub, failing_chain("fails3", 3))
    execution = await launch(stub, "fails3", ints(x=42))
    done = await wait(stub, execution)
    assert done.closure.phase == core.WorkflowExecution.FAILED
    assert "node n2 fails the first time it runs" in done.closure.error.message  # the original error

    nodes = await node_executions(stub, execution)
    assert nodes["n2"].closure.phase == core.NodeExecution.FAILED
    assert nodes["fn0"].closure.phase == core.NodeExecution.SUCCEEDED
    data = await node_data(stub, execution, "fn0")
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 42  # bound to the workflow's input
    err = data.full_inputs.literals["err"].scalar.union
    assert err.type == types_pb2.LiteralType(
        simple=types_pb2.ERROR, structure=types_pb2.TypeStructure(tag="FlyteError")
    )
    assert "node n2 fails the first time it runs" in err.value.scalar.error.message
    assert err.value.scalar.error.failed_node_id == "fn0"  # Flyte names the failure node itself here


async def test_a_failure_node_that_fails_fails_the_workflow_with_its_own_error(plane: RunningPlane) -> None:
    stub = plane.stub
    await register(stub, failing_chain("fails2", 2, clean_up="fail-once"))
    execution = await launch(stub, "fails2", ints(x=1))
    done = await wait(stub, execution)
    assert done.closure.phase == core.WorkflowExecution.FAILED
    assert "node fn0 fails the first time it runs" in done.closure.error.message
    nodes = await node_executions(stub, execution)
    assert nodes["n1"].closure.phase == core.NodeExecution.FAILED
    assert nodes["fn0"].closure.phase == core.NodeExecution.FAILED


async def test_a_workflow_that_succeeds_never_runs_its_failure_node(plane: RunningPlane) -> None:
    stub = plane.stub
    requests = failing_chain("fine2", 2)
    workflow = requests[-2]
    assert isinstance(workflow, admin_wf.WorkflowCreateRequest)
    workflow.spec.template.nodes[-1].task_node.reference_id.CopyFrom(ident(identifier_pb2.TASK, "echo.int"))
    await register(stub, requests)
    execution = await launch(stub, "fine2", ints(x=5))
    done = await wait(stub, execution)
    assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
    assert "fn0" not in await node_executions(stub, execution)


async def test_a_sub_workflow_runs_its_failure_node_before_its_node_fails(plane: RunningPlane) -> None:
    stub = plane.stub
    inner_requests = failing_chain("inner2", 2)
    inner = inner_requests[-2]
    assert isinstance(inner, admin_wf.WorkflowCreateRequest)
    outer_requests = chain("outer1", 1)
    outer = outer_requests[0]
    assert isinstance(outer, admin_wf.WorkflowCreateRequest)
    node = outer.spec.template.nodes[0]
    node.ClearField("task_node")
    node.workflow_node.sub_workflow_ref.CopyFrom(inner.id)
    outer.spec.sub_workflows.append(inner.spec.template)
    await register(stub, [*inner_requests[:-2], *outer_requests])
    execution = await launch(stub, "outer1", ints(x=7))
    done = await wait(stub, execution)
    assert done.closure.phase == core.WorkflowExecution.FAILED
    assert "fails the first time it runs" in done.closure.error.message

    assert (await node_executions(stub, execution))["n0"].closure.phase == core.NodeExecution.FAILED
    children = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, unique_parent_id="n0", limit=100)
    )
    phases = {n.metadata.spec_node_id: n.closure.phase for n in children.node_executions}
    assert phases["n1"] == core.NodeExecution.FAILED
    assert phases["fn0"] == core.NodeExecution.SUCCEEDED
    fn = next(n for n in children.node_executions if n.metadata.spec_node_id == "fn0")
    data = await node_data(stub, execution, fn.id.node_id)
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 7  # the sub-workflow's input
    assert "fails the first time it runs" in data.full_inputs.literals["err"].scalar.union.value.scalar.error.message


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    plugins = {
        "factories": {**PLUGINS["factories"], "sleep": "tests.support.plugin_doubles:sleep"},
        "backends": {"sleep": {"seconds": 3}},
    }
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=plugins
    )
    # A fixed owner: a restarted engine takes its executions back at once instead of after the lease.
    config = config.model_copy(update={"propeller": config.propeller.model_copy(update={"owner_id": "failure-test"})})
    async with running_plane(config) as running:
        yield running


async def running_failure_node(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> None:
    deadline = time.monotonic() + 30
    while (fn := (await node_executions(stub, execution)).get("fn0")) is None or (
        fn.closure.phase != core.NodeExecution.RUNNING
    ):
        assert time.monotonic() < deadline, "the failure node never ran"
        await asyncio.sleep(0.05)


async def test_a_restarted_engine_resumes_the_running_failure_node_and_runs_it_once(
    restartable: RunningPlane,
) -> None:
    from propeller.server import start_propeller

    plane, stub = restartable, restartable.stub
    await register(stub, failing_chain("slow2", 2, clean_up="sleep"))  # a 3 s clean-up
    execution = await launch(stub, "slow2", ints(x=3))
    await running_failure_node(stub, execution)
    await plane.propeller.stop(0)  # while the failure node sleeps
    plane.propeller = await start_propeller(plane.config)
    try:
        done = await wait(stub, execution)
    finally:
        await plane.propeller.stop(0)
    # The new engine went on with the failure node's attempt (its clock is in the plugin state) and ran nothing twice.
    assert done.closure.phase == core.WorkflowExecution.FAILED
    assert "node n1 fails the first time it runs" in done.closure.error.message
    nodes = await node_executions(stub, execution)
    assert nodes["fn0"].closure.phase == core.NodeExecution.SUCCEEDED
    attempts = await stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=nodes["fn0"].id, limit=10)
    )
    assert [t.closure.phase for t in attempts.task_executions] == [core.TaskExecution.SUCCEEDED]


async def test_terminating_an_execution_that_runs_its_failure_node_aborts_that_node(
    restartable: RunningPlane,
) -> None:
    stub = restartable.stub
    await register(stub, failing_chain("abort2", 2, clean_up="sleep"))  # a 3 s clean-up
    execution = await launch(stub, "abort2", ints(x=3))
    await running_failure_node(stub, execution)
    await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution, cause="enough"))
    done = await wait(stub, execution)
    assert done.closure.phase == core.WorkflowExecution.ABORTED
    assert (await node_executions(stub, execution))["fn0"].closure.phase == core.NodeExecution.ABORTED
