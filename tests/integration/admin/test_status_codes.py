"""What grpcio itself would answer is mapped to the status a client can act on.

flytekit treats UNKNOWN as an authentication failure and then waits for a browser login forever, so
no request a client can send may be answered UNKNOWN (or INTERNAL, which says the plane is broken).
"""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from flyteidl_py.admin import project_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support.admin import RunningAdmin

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
