"""What grpcio itself would answer is mapped to the status a client can act on.

flytekit treats UNKNOWN as an authentication failure and then waits for a browser login forever, so
no request a client can send may be answered UNKNOWN (or INTERNAL, which says the plane is broken).
"""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from flyteidl_py.admin import common_pb2, project_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support import echo
from tests.support.admin import RunningAdmin
from tests.support.echo import chain, echo_task

GARBAGE = b"\xff\xff\xff\xff\x0f"  # a field with an invalid wire type: no message decodes it


def _raw(channel: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


@pytest.mark.parametrize(
    "method",
    [
        "/flyteidl.service.AdminService/ListProjects",
        "/flyteidl.service.AdminService/CreateExecution",
        "/flyteidl.service.DataProxyService/CreateUploadLocation",
        "/grpc.health.v1.Health/Check",
    ],
)
async def test_a_request_body_that_does_not_decode_is_invalid_argument(admin: RunningAdmin, method: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _raw(admin.channel, method)(GARBAGE)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not decode" in (refused.value.details() or "")


async def test_the_plane_still_answers_after_undecodable_requests(admin: RunningAdmin) -> None:
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError):
            await _raw(admin.channel, "/flyteidl.service.AdminService/ListProjects")(GARBAGE)
    listed = await admin_pb2_grpc.AdminServiceStub(admin.channel).ListProjects(project_pb2.ProjectListRequest())
    assert [p.id for p in listed.projects]


async def test_health_list_names_every_service_as_serving(admin: RunningAdmin) -> None:
    listed = await health_pb2_grpc.HealthStub(admin.channel).List(health_pb2.HealthListRequest())
    assert "flyteidl.service.AdminService" in listed.statuses
    assert {s.status for s in listed.statuses.values()} == {health_pb2.HealthCheckResponse.SERVING}


async def test_a_negative_max_parallelism_is_refused_naming_the_field(admin: RunningAdmin) -> None:
    from flyteidl_py.admin import execution_pb2, launch_plan_pb2
    from flyteidl_py.core import identifier_pb2

    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    ident = {"project": "flytesnacks", "domain": "development", "name": "wf", "version": "v1"}
    refusals = [
        stub.CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project="flytesnacks", domain="development", spec=execution_pb2.ExecutionSpec(max_parallelism=-5)
            )
        ),
        stub.CreateLaunchPlan(
            launch_plan_pb2.LaunchPlanCreateRequest(
                id=identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, **ident),
                spec=launch_plan_pb2.LaunchPlanSpec(
                    workflow_id=identifier_pb2.Identifier(resource_type=identifier_pb2.WORKFLOW, **ident),
                    max_parallelism=-5,
                ),
            )
        ),
    ]
    for call in refusals:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "max_parallelism" in (refused.value.details() or "")


async def test_an_expiry_beyond_any_clock_is_invalid_argument(admin: RunningAdmin) -> None:
    from google.protobuf import duration_pb2

    from flyteidl_py.service import dataproxy_pb2, dataproxy_pb2_grpc

    stub = dataproxy_pb2_grpc.DataProxyServiceStub(admin.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateUploadLocation(
            dataproxy_pb2.CreateUploadLocationRequest(
                project="flytesnacks",
                domain="development",
                filename="f.txt",
                filename_root="r",
                expires_in=duration_pb2.Duration(seconds=10**18),
            )
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expires_in" in (refused.value.details() or "")


@pytest.mark.parametrize(("seconds", "nanos"), [(2**62, 0), (-5, 0), (10, -1)], ids=["1e18s", "negative", "neg-nanos"])
async def test_timeouts_no_clock_can_honour_are_refused_at_registration(
    admin: RunningAdmin, seconds: int, nanos: int
) -> None:
    """A task or node timeout beyond Duration's range (about 1e300 in a client's float) or negative
    was stored, and failed the execution with an overflow when the engine applied it."""

    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    task = echo_task("timed.task")
    task.spec.template.metadata.timeout.seconds = seconds
    task.spec.template.metadata.timeout.nanos = nanos
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateTask(task)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "metadata.timeout" in (refused.value.details() or "")

    await stub.CreateTask(echo_task())
    workflow = chain("timed.wf", 1)[0]
    node = workflow.spec.template.nodes[0]  # type: ignore[attr-defined]
    node.metadata.timeout.seconds = seconds
    node.metadata.timeout.nanos = nanos
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateWorkflow(workflow)  # type: ignore[arg-type]
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "timeout" in (refused.value.details() or "")
    workflow_id = echo.ident(identifier_pb2.WORKFLOW, "timed.wf")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetWorkflow(common_pb2.ObjectGetRequest(id=workflow_id))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_text_wider_than_its_column_is_refused_naming_the_field(admin: RunningAdmin) -> None:
    """A named entity's description over 300 characters, a short description over 255 and a NUL in
    either reached PostgreSQL ("value too long", "invalid byte sequence") and came back INTERNAL."""
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    task = echo_task("described.task")
    task.spec.description.short_description = "x" * 256
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateTask(task)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "spec.description.short_description" in (refused.value.details() or "")
    await stub.CreateTask(echo_task("described.task"))
    for description in ("y" * 301, "a\x00b"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UpdateNamedEntity(
                common_pb2.NamedEntityUpdateRequest(
                    resource_type=identifier_pb2.TASK,
                    id=common_pb2.NamedEntityIdentifier(
                        project="flytesnacks", domain="development", name="described.task"
                    ),
                    metadata=common_pb2.NamedEntityMetadata(description=description),
                )
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "metadata.description" in (refused.value.details() or "")
