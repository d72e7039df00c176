"""Every RPC of every admin service answers an empty request with a deliberate status, never UNKNOWN.

flytekit treats UNKNOWN (what grpcio makes of an uncaught exception) as an authentication failure
and blocks forever waiting for a browser login, so this sweep guards every handler at once.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import symbol_database

from admin.service import SERVICES
from flyteidl_py.admin import project_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.conftest import RunningAdmin

# RPCs that legitimately succeed on an empty request (nothing to name, or harmless defaults).
ANSWER_EMPTY_REQUESTS = {
    "GetVersion",
    "GetDomains",
    "ListProjects",
    "GetOAuth2Metadata",
    "GetPublicClientConfig",
    "UserInfo",
    "ListMatchableAttributes",
    "RecordEvents",  # an empty batch: nothing to record, no results
    "ListSchedules",  # no revision known: the whole (here empty) set of active schedules
}
DELIBERATE = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}
_RPCS = [(d.full_name, m) for d, _ in SERVICES for m in d.methods]


@pytest.mark.parametrize(("service", "method"), _RPCS, ids=[f"{s.rsplit('.', 1)[1]}.{m.name}" for s, m in _RPCS])
async def test_an_empty_request_gets_a_deliberate_answer_and_changes_nothing(
    admin: RunningAdmin, service: str, method: object
) -> None:
    rpc = method  # a MethodDescriptor
    request_cls = symbol_database.Default().GetSymbol(rpc.input_type.full_name)  # type: ignore[attr-defined]
    response_cls = symbol_database.Default().GetSymbol(rpc.output_type.full_name)  # type: ignore[attr-defined]
    call = admin.channel.unary_unary(
        f"/{service}/{rpc.name}",  # type: ignore[attr-defined]
        request_serializer=request_cls.SerializeToString,
        response_deserializer=response_cls.FromString,
    )
    try:
        await call(request_cls())
        code = grpc.StatusCode.OK
    except grpc.aio.AioRpcError as error:
        code = error.code()
    if rpc.name in ANSWER_EMPTY_REQUESTS:  # type: ignore[attr-defined]
        assert code == grpc.StatusCode.OK
    else:
        assert code in DELIBERATE, f"{rpc.name} answered {code}"  # type: ignore[attr-defined]
    projects = await admin_pb2_grpc.AdminServiceStub(admin.channel).ListProjects(project_pb2.ProjectListRequest())
    assert [p.id for p in projects.projects] == ["flytesnacks"]
