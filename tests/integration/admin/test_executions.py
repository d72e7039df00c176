"""Executions through gRPC: creation, input checking, the engine hand-off, termination and reads."""

from __future__ import annotations

import re

import grpc
import pytest

from flyteidl_py.admin import common_pb2, execution_pb2
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.storage import Storage, StorageConfig
from tests.conftest import RunningAdmin
from tests.integration.admin.helpers import DOMAIN, PROJECT, WF, launch, lp_id, register, task_id, wf_event


async def test_an_execution_merges_launch_plan_defaults_and_is_handed_to_the_engine(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub
) -> None:
    await register(stub)
    ident = await launch(stub, name="first-run")
    assert ident.name == "first-run"
    [launched] = admin.engine.launches  # type: ignore[attr-defined]
    assert launched.execution_id == ident
    assert launched.closure.primary.template.id.name == "examples.configured.configured_wf"
    data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 21  # the launch plan's default
    stored = await Storage(StorageConfig(local_root=admin.storage_root)).read_proto(
        launched.inputs_uri, literals_pb2.LiteralMap
    )
    assert stored == data.full_inputs
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.UNDEFINED
    assert execution.spec.max_parallelism == 25
    assert execution.closure.workflow_id.name == "examples.configured.configured_wf"


async def test_a_generated_name_looks_like_flytes(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    ident = await launch(stub)
    assert re.fullmatch(r"a[bcdfghjklmnpqrstvwxz2456789]{19}", ident.name)


async def test_given_inputs_override_defaults(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    ident = await launch(stub, x=5)
    data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 5


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"y": 1}, "invalid input y"),
        ({"x": "text"}, "invalid x input wrong type"),
    ],
)
async def test_mistyped_or_unknown_inputs_are_invalid_and_create_nothing(
    stub: admin_pb2_grpc.AdminServiceStub, inputs: dict[str, object], message: str
) -> None:
    await register(stub)
    literals = literals_pb2.LiteralMap()
    for key, value in inputs.items():
        primitive = (
            literals_pb2.Primitive(integer=value)
            if isinstance(value, int)
            else literals_pb2.Primitive(string_value=str(value))
        )
        literals.literals[key].scalar.primitive.CopyFrom(primitive)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project=PROJECT,
                domain=DOMAIN,
                name="bad-inputs",
                spec=execution_pb2.ExecutionSpec(launch_plan=lp_id("examples.configured.configured_wf")),
                inputs=literals,
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in raised.value.details()
    listed = await stub.ListExecutions(
        common_pb2.ResourceListRequest(id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=10)
    )
    assert list(listed.executions) == []


async def test_a_required_input_without_value_is_invalid(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project=PROJECT,
                domain=DOMAIN,
                spec=execution_pb2.ExecutionSpec(launch_plan=lp_id("examples.advanced.sub_wf")),
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expected_inputs x missing" in raised.value.details()


async def test_an_execution_name_can_be_used_once(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    await launch(stub, name="only-once")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await launch(stub, name="only-once")
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize("name", ["1starts-with-digit", "has_underscore", "x" * 64])
async def test_a_malformed_execution_name_is_invalid(stub: admin_pb2_grpc.AdminServiceStub, name: str) -> None:
    await register(stub)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await launch(stub, name=name)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in raised.value.details()


async def test_a_single_task_execution_runs_a_generated_workflow(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub
) -> None:
    await register(stub)
    response = await stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT,
            domain=DOMAIN,
            spec=execution_pb2.ExecutionSpec(launch_plan=task_id("examples.configured.retried")),
            inputs=literals_pb2.LiteralMap(
                literals={
                    "x": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=7)))
                }
            ),
        )
    )
    [launched] = admin.engine.launches  # type: ignore[attr-defined]
    primary = launched.closure.primary.template
    assert primary.id.name == ".flytegen.examples.configured.retried"
    [node] = [n for n in primary.nodes if n.id not in ("start-node", "end-node")]
    assert node.task_node.reference_id.name == "examples.configured.retried"
    assert node.id == "examplesconfiguredretried"
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=response.id))
    assert execution.spec.launch_plan.resource_type == identifier_pb2.TASK
    # Generated entities are hidden from the default named-entity listing.
    named = await stub.ListNamedEntities(
        common_pb2.NamedEntityListRequest(
            resource_type=identifier_pb2.WORKFLOW, project=PROJECT, domain=DOMAIN, limit=100
        )
    )
    assert all(not e.id.name.startswith(".flytegen") for e in named.entities)


async def test_terminating_a_running_execution_aborts_it_and_a_finished_one_cannot_be(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub
) -> None:
    await register(stub)
    ident = await launch(stub)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
    await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="enough"))
    assert admin.engine.aborts == [(ident, "enough")]  # type: ignore[attr-defined]
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.ABORTING
    assert execution.closure.abort_metadata.cause == "enough"
    await stub.CreateWorkflowEvent(wf_event(ident, WF.ABORTED, 2))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="again"))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_relaunch_reuses_the_inputs_and_points_at_the_original(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub
) -> None:
    await register(stub)
    ident = await launch(stub, name="original", x=3)
    again = await stub.RelaunchExecution(execution_pb2.ExecutionRelaunchRequest(id=ident, name="again"))
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=again.id))
    assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.RELAUNCH
    assert execution.spec.metadata.reference_execution == ident
    data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=again.id))
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 3


async def test_archived_executions_leave_the_default_listing(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    keep = await launch(stub, name="keep")
    gone = await launch(stub, name="gone")
    await stub.UpdateExecution(execution_pb2.ExecutionUpdateRequest(id=gone, state=execution_pb2.EXECUTION_ARCHIVED))
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=10
    )
    listed = await stub.ListExecutions(request)
    assert [e.id.name for e in listed.executions] == [keep.name]
    request.filters = "eq(state,1)"
    archived = await stub.ListExecutions(request)
    assert [e.id.name for e in archived.executions] == [gone.name]
