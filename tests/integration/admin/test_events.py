"""Event ingestion through gRPC: whole lifecycles, and the stale, duplicate and late events Flyte refuses."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status

from flyteidl_py.admin import (
    event_pb2 as admin_event_pb2,
)
from flyteidl_py.admin import (
    execution_pb2,
    node_execution_pb2,
    task_execution_pb2,
)
from flyteidl_py.core import compiler_pb2, identifier_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.event import event_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.conftest import RunningAdmin
from tests.integration.admin.helpers import (
    NODE,
    TASK,
    WF,
    ints,
    launch,
    node_event,
    register,
    task_event,
    task_id,
    wf_event,
)


async def _started(stub: admin_pb2_grpc.AdminServiceStub) -> identifier_pb2.WorkflowExecutionIdentifier:
    await register(stub)
    ident = await launch(stub)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
    return ident


def _node_id(ident: identifier_pb2.WorkflowExecutionIdentifier, node: str) -> identifier_pb2.NodeExecutionIdentifier:
    return identifier_pb2.NodeExecutionIdentifier(execution_id=ident, node_id=node)


async def test_a_task_that_fails_twice_then_succeeds_reads_back_as_three_attempts(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    ident = await _started(stub)
    task = "examples.configured.retried"
    await stub.CreateNodeEvent(node_event(ident, "n1", NODE.QUEUED, 2, input_uri="file:///in.pb"))
    await stub.CreateNodeEvent(node_event(ident, "n1", NODE.RUNNING, 3))
    error = core.ExecutionError(code="USER:ValueError", message="boom", kind=core.ExecutionError.USER)
    for attempt in (0, 1):
        await stub.CreateTaskEvent(task_event(ident, "n1", task, attempt, TASK.RUNNING, 4 + attempt))
        await stub.CreateTaskEvent(
            task_event(ident, "n1", task, attempt, TASK.RETRYABLE_FAILED, 4.5 + attempt, error=error)
        )
    await stub.CreateTaskEvent(task_event(ident, "n1", task, 2, TASK.RUNNING, 7))
    await stub.CreateTaskEvent(task_event(ident, "n1", task, 2, TASK.SUCCEEDED, 8, output_uri="file:///out.pb"))
    await stub.CreateNodeEvent(node_event(ident, "n1", NODE.SUCCEEDED, 9, output_uri="file:///out.pb"))
    attempts = await stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=_node_id(ident, "n1"), limit=100)
    )
    assert [(a.id.retry_attempt, a.closure.phase) for a in attempts.task_executions] == [
        (0, TASK.RETRYABLE_FAILED),
        (1, TASK.RETRYABLE_FAILED),
        (2, TASK.SUCCEEDED),
    ]
    assert attempts.task_executions[0].closure.error.message == "boom"
    node = await stub.GetNodeExecution(node_execution_pb2.NodeExecutionGetRequest(id=_node_id(ident, "n1")))
    assert node.closure.phase == NODE.SUCCEEDED
    assert node.closure.duration.seconds == 6
    assert node.input_uri == "file:///in.pb"


async def test_a_workflow_reaches_succeeded_with_outputs_and_a_duration(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    ident = await _started(stub)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.SUCCEEDING, 5))
    await stub.CreateWorkflowEvent(wf_event(ident, WF.SUCCEEDED, 6, output_data=ints(o0=42)))
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.SUCCEEDED
    assert execution.closure.duration.seconds == 5
    data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 42


async def test_a_failed_workflow_shows_the_users_error(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    ident = await _started(stub)
    error = core.ExecutionError(code="USER:ValueError", message="negative input -1", kind=core.ExecutionError.USER)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.FAILED, 3, error=error))
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.FAILED
    assert execution.closure.error.message == "negative input -1"


async def test_the_same_workflow_phase_twice_is_already_exists(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    ident = await _started(stub)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 2))
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_an_event_after_the_end_is_refused_with_the_terminal_phase(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    ident = await _started(stub)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.SUCCEEDED, 2))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateWorkflowEvent(wf_event(ident, WF.FAILED, 3))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(raised.value)
    assert status is not None
    reason = admin_event_pb2.EventFailureReason()
    status.details[0].Unpack(reason)
    assert reason.already_in_terminal_state.current_phase == "SUCCEEDED"
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.SUCCEEDED


async def test_running_cannot_go_back_to_queued(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    ident = await _started(stub)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateWorkflowEvent(wf_event(ident, WF.QUEUED, 2))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_stale_task_phase_version_is_already_exists_and_a_newer_one_updates(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    ident = await _started(stub)
    task = "examples.configured.retried"
    await stub.CreateNodeEvent(node_event(ident, "n1", NODE.RUNNING, 2))
    await stub.CreateTaskEvent(task_event(ident, "n1", task, 0, TASK.RUNNING, 3, phase_version=1))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateTaskEvent(task_event(ident, "n1", task, 0, TASK.RUNNING, 3.5, phase_version=1))
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    log = core.TaskLog(uri="http://logs/n1", name="stdout")
    await stub.CreateTaskEvent(task_event(ident, "n1", task, 0, TASK.RUNNING, 4, phase_version=2, logs=[log]))
    attempt = await stub.GetTaskExecution(
        task_execution_pb2.TaskExecutionGetRequest(
            id=identifier_pb2.TaskExecutionIdentifier(
                task_id=task_id(task), node_execution_id=_node_id(ident, "n1"), retry_attempt=0
            )
        )
    )
    assert [entry.uri for entry in attempt.closure.logs] == ["http://logs/n1"]


async def test_a_task_event_for_an_unknown_node_is_not_found(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    ident = await _started(stub)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateTaskEvent(task_event(ident, "nope", "examples.configured.retried", 0, TASK.RUNNING, 2))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_nested_nodes_stay_out_of_the_top_level_listing(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    """FlyteRemote.wait maps every listed node to the workflow template; children must not leak."""
    ident = await _started(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2, is_parent=True, is_dynamic=True))
    closure = compiler_pb2.CompiledWorkflowClosure()
    dynamic = event_pb2.DynamicWorkflowNodeMetadata(
        id=task_id("dyn"), compiled_workflow=closure, dynamic_job_spec_uri="file:///futures.pb"
    )
    await stub.CreateNodeEvent(
        node_event(
            ident,
            "n0",
            NODE.DYNAMIC_RUNNING,
            3,
            task_node_metadata=event_pb2.TaskNodeMetadata(dynamic_workflow=dynamic),
        )
    )
    for child in ("n0-0-dn0", "n0-0-dn1"):
        await stub.CreateNodeEvent(
            node_event(
                ident,
                child,
                NODE.RUNNING,
                4,
                parent_node_metadata=event_pb2.ParentNodeExecutionMetadata(node_id="n0"),
            )
        )
    top = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100)
    )
    assert [n.id.node_id for n in top.node_executions] == ["n0"]
    assert top.node_executions[0].metadata.is_parent_node
    children = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100, unique_parent_id="n0")
    )
    assert [n.id.node_id for n in children.node_executions] == ["n0-0-dn0", "n0-0-dn1"]
    data = await stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=_node_id(ident, "n0")))
    assert data.dynamic_workflow.dynamic_job_spec_uri == "file:///futures.pb"


async def test_an_array_node_event_marks_the_node_as_an_array(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    ident = await _started(stub)
    await stub.CreateNodeEvent(node_event(ident, "n1", NODE.RUNNING, 2, is_array=True))
    resources = [event_pb2.ExternalResourceInfo(external_id=f"n1-{i}", index=i, phase=TASK.RUNNING) for i in (1, 0)]
    await stub.CreateTaskEvent(
        task_event(
            ident,
            "n1",
            "examples.advanced.square",
            0,
            TASK.RUNNING,
            3,
            metadata=event_pb2.TaskExecutionMetadata(external_resources=resources),
        )
    )
    top = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100)
    )
    assert top.node_executions[0].metadata.is_array
    attempts = await stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=_node_id(ident, "n1"), limit=100)
    )
    indexes = [r.index for r in attempts.task_executions[0].closure.metadata.external_resources]
    assert indexes == [0, 1]


async def test_oversized_inline_outputs_are_resource_exhausted(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    ident = await _started(stub)
    big = ints(**{f"k{i}": i for i in range(200_000)})
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateWorkflowEvent(wf_event(ident, WF.SUCCEEDED, 2, output_data=big))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.RUNNING


def _stored(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def test_refused_events_write_no_data(admin: RunningAdmin) -> None:
    """Events carrying inline data for an execution or node that does not exist, or in a phase the
    record refuses, are answered without writing their data under the path segments they chose."""
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    ident = await _started(stub)
    ghost = identifier_pb2.WorkflowExecutionIdentifier(project=ident.project, domain=ident.domain, name="ghost")
    before = _stored(admin.storage_root)
    data = {"input_data": ints(x=1), "output_data": ints(x=2)}
    refused = [
        (stub.CreateWorkflowEvent, wf_event(ghost, WF.SUCCEEDED, 2, output_data=ints(x=2))),
        (stub.CreateWorkflowEvent, wf_event(ident, WF.QUEUED, 2, output_data=ints(x=2))),  # RUNNING -> QUEUED
        (stub.CreateNodeEvent, node_event(ghost, "n0", NODE.SUCCEEDED, 2, **data)),
        (stub.CreateTaskEvent, task_event(ghost, "n0", "t", 0, TASK.SUCCEEDED, 2, **data)),
        (stub.CreateTaskEvent, task_event(ident, "no-such-node", "t", 0, TASK.SUCCEEDED, 2, **data)),
    ]
    for rpc, request in refused:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await rpc(request)  # type: ignore[operator]
        assert raised.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)
    assert _stored(admin.storage_root) == before


async def test_timestamps_beyond_protobufs_range_are_invalid_argument(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    ident = await _started(stub)
    late = node_event(ident, "n0", NODE.RUNNING, 2)
    late.event.occurred_at.seconds = 2**62
    early = task_event(ident, "n0", "t", 0, TASK.RUNNING, 2)
    early.event.reported_at.nanos = -5
    for rpc, request, field in (
        (stub.CreateNodeEvent, late, "event.occurred_at"),
        (stub.CreateTaskEvent, early, "event.reported_at"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await rpc(request)  # type: ignore[operator]
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in (raised.value.details() or "")
