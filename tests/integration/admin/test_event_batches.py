"""EventSinkService.RecordEvents: a batch of events reads back exactly as the same events sent one per RPC,
answers every event as its single RPC would, and a refused event changes nothing and stops nothing."""

from __future__ import annotations

import grpc
import pytest

from flyteidl_py.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.events.v1 import events_pb2, events_pb2_grpc
from flyteidl_py.service import admin_pb2_grpc
from tests.conftest import RunningAdmin
from tests.integration.admin.helpers import NODE, TASK, WF, launch, node_event, register, task_event, wf_event

OK = grpc.StatusCode.OK.value[0]
ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS.value[0]
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION.value[0]
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
TASK_NAME = "examples.configured.retried"


@pytest.fixture
def sink(admin: RunningAdmin) -> events_pb2_grpc.EventSinkServiceStub:
    return events_pb2_grpc.EventSinkServiceStub(admin.channel)


def lifecycle(ident: identifier_pb2.WorkflowExecutionIdentifier) -> list[events_pb2.Event]:
    """A workflow with two nodes, n1's task failing once then succeeding, n2 a child of n1, in order."""
    error = core.ExecutionError(code="USER:ValueError", message="boom", kind=core.ExecutionError.USER)
    child = node_event(ident, "n1-0-n2", NODE.QUEUED, 6, input_uri="file:///n2/in.pb")
    child.event.parent_node_metadata.node_id = "n1"
    return [
        events_pb2.Event(workflow=wf_event(ident, WF.RUNNING, 1)),
        events_pb2.Event(node=node_event(ident, "n1", NODE.QUEUED, 2, input_uri="file:///n1/in.pb")),
        events_pb2.Event(node=node_event(ident, "n1", NODE.RUNNING, 3)),
        events_pb2.Event(task=task_event(ident, "n1", TASK_NAME, 0, TASK.RUNNING, 3.5)),
        events_pb2.Event(task=task_event(ident, "n1", TASK_NAME, 0, TASK.RETRYABLE_FAILED, 4, error=error)),
        events_pb2.Event(task=task_event(ident, "n1", TASK_NAME, 1, TASK.RUNNING, 5)),
        events_pb2.Event(node=child),
        events_pb2.Event(task=task_event(ident, "n1", TASK_NAME, 1, TASK.SUCCEEDED, 7, output_uri="file:///o.pb")),
        events_pb2.Event(node=node_event(ident, "n1-0-n2", NODE.SUCCEEDED, 7.5, output_uri="file:///n2/o.pb")),
        events_pb2.Event(node=node_event(ident, "n1", NODE.SUCCEEDED, 8, output_uri="file:///o.pb")),
        events_pb2.Event(workflow=wf_event(ident, WF.SUCCEEDED, 9, output_uri="file:///wf.pb")),
    ]


async def send_one_by_one(stub: admin_pb2_grpc.AdminServiceStub, events: list[events_pb2.Event]) -> None:
    for item in events:
        kind = item.WhichOneof("kind")
        if kind == "workflow":
            await stub.CreateWorkflowEvent(item.workflow)
        elif kind == "node":
            await stub.CreateNodeEvent(item.node)
        else:
            await stub.CreateTaskEvent(item.task)


async def records(
    stub: admin_pb2_grpc.AdminServiceStub, ident: identifier_pb2.WorkflowExecutionIdentifier
) -> list[object]:
    """What clients read of an execution, with its name taken out so two executions compare equal."""
    found: list[object] = []
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    closure = execution.closure
    found.append((closure.phase, closure.outputs.uri, closure.duration.ToNanoseconds()))
    nodes = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100)
    )
    for node in sorted(nodes.node_executions, key=lambda n: n.id.node_id):
        found.append((node.id.node_id, node.input_uri, node.closure.phase, node.closure.output_uri))
        tasks = await stub.ListTaskExecutions(
            task_execution_pb2.TaskExecutionListRequest(node_execution_id=node.id, limit=100)
        )
        for task in tasks.task_executions:
            found.append(
                (task.id.retry_attempt, task.closure.phase, task.closure.output_uri, task.closure.error.message)
            )
    children = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100, unique_parent_id="n1")
    )
    found.append(sorted(n.id.node_id for n in children.node_executions))
    return found


async def test_a_batch_reads_back_exactly_as_the_same_events_sent_one_by_one(
    stub: admin_pb2_grpc.AdminServiceStub, sink: events_pb2_grpc.EventSinkServiceStub
) -> None:
    await register(stub)
    singles, batched = await launch(stub), await launch(stub)
    await send_one_by_one(stub, lifecycle(singles))

    response = await sink.RecordEvents(events_pb2.RecordEventsRequest(events=lifecycle(batched)))

    assert [r.code for r in response.results] == [OK] * len(lifecycle(batched))
    expected = await records(stub, singles)
    assert expected[0] == (WF.SUCCEEDED, "file:///wf.pb", 8_000_000_000)
    assert ["n1-0-n2"] in expected
    assert await records(stub, batched) == expected


async def answers_one_by_one(stub: admin_pb2_grpc.AdminServiceStub, events: list[events_pb2.Event]) -> list[int]:
    codes = []
    for item in events:
        try:
            await send_one_by_one(stub, [item])
        except grpc.aio.AioRpcError as error:
            codes.append(error.code().value[0])
        else:
            codes.append(OK)
    return codes


async def test_a_batch_sent_again_gets_the_answers_the_single_rpcs_give_and_reads_back_the_same(
    stub: admin_pb2_grpc.AdminServiceStub, sink: events_pb2_grpc.EventSinkServiceStub
) -> None:
    await register(stub)
    singles, batched = await launch(stub), await launch(stub)
    await send_one_by_one(stub, lifecycle(singles))
    await sink.RecordEvents(events_pb2.RecordEventsRequest(events=lifecycle(batched)))

    expected = await answers_one_by_one(stub, lifecycle(singles))
    again = await sink.RecordEvents(events_pb2.RecordEventsRequest(events=lifecycle(batched)))

    assert [r.code for r in again.results] == expected
    assert expected[0] == FAILED_PRECONDITION  # RUNNING after the workflow succeeded
    assert expected[1] == FAILED_PRECONDITION  # n1 QUEUED after it succeeded
    assert expected[-1] == ALREADY_EXISTS  # SUCCEEDED again
    assert await records(stub, batched) == await records(stub, singles)


async def test_a_refused_event_changes_nothing_and_the_events_after_it_still_count(
    stub: admin_pb2_grpc.AdminServiceStub, sink: events_pb2_grpc.EventSinkServiceStub
) -> None:
    await register(stub)
    ident = await launch(stub)
    unknown = identifier_pb2.WorkflowExecutionIdentifier(project=ident.project, domain=ident.domain, name="nope")
    orphan = node_event(ident, "n9", NODE.QUEUED, 2)
    orphan.event.parent_node_metadata.node_id = "missing-parent"
    events = [
        events_pb2.Event(workflow=wf_event(ident, WF.RUNNING, 1)),
        events_pb2.Event(node=node_event(unknown, "n1", NODE.QUEUED, 2)),  # no such execution
        events_pb2.Event(node=orphan),  # its parent node does not exist
        events_pb2.Event(node=node_event(ident, "n1", NODE.QUEUED, 2)),
        events_pb2.Event(node=node_event(ident, "n1", NODE.SUCCEEDED, 3, output_uri="file:///o.pb")),
        events_pb2.Event(node=node_event(ident, "n1", NODE.RUNNING, 4)),  # after a terminal phase
        events_pb2.Event(task=task_event(ident, "n7", TASK_NAME, 0, TASK.RUNNING, 4)),  # node n7 unknown
        events_pb2.Event(workflow=wf_event(ident, WF.SUCCEEDED, 5, output_uri="file:///wf.pb")),
    ]

    response = await sink.RecordEvents(events_pb2.RecordEventsRequest(events=events))

    codes = [r.code for r in response.results]
    assert codes == [OK, NOT_FOUND, NOT_FOUND, OK, OK, FAILED_PRECONDITION, NOT_FOUND, OK]
    assert "missing-parent" in response.results[2].message
    assert "event.phase" in response.results[5].message
    nodes = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100)
    )
    assert [(n.id.node_id, n.closure.phase) for n in nodes.node_executions] == [("n1", NODE.SUCCEEDED)]
    execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert execution.closure.phase == WF.SUCCEEDED


async def test_an_event_of_no_kind_is_refused_naming_it_and_nothing_is_recorded(
    stub: admin_pb2_grpc.AdminServiceStub, sink: events_pb2_grpc.EventSinkServiceStub
) -> None:
    await register(stub)
    ident = await launch(stub)
    before = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    events = [events_pb2.Event(workflow=wf_event(ident, WF.RUNNING, 1)), events_pb2.Event()]

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await sink.RecordEvents(events_pb2.RecordEventsRequest(events=events))

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "events[1]" in (refused.value.details() or "")
    assert await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident)) == before
