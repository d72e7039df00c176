"""The interceptors: an RPC a servicer lacks answers UNIMPLEMENTED, not INTERNAL; a wrapper is built once."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from flyteidl_py.admin import common_pb2, project_pb2
from flyteidl_py.service import admin_pb2, admin_pb2_grpc
from flyteplane.rpc import ErrorInterceptor, UnaryCall, UnaryInterceptor, servicer


async def _list_projects(request: project_pb2.ProjectListRequest) -> project_pb2.Projects:
    return project_pb2.Projects(projects=[project_pb2.Project(id="p")])


async def test_an_rpc_missing_from_the_route_table_is_unimplemented() -> None:
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    descriptor = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]
    routes = {"ListProjects": _list_projects}
    admin_pb2_grpc.add_AdminServiceServicer_to_server(
        servicer(admin_pb2_grpc.AdminServiceServicer, descriptor, routes), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            assert (await stub.ListProjects(project_pb2.ProjectListRequest())).projects[0].id == "p"
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetTask(common_pb2.ObjectGetRequest())
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
            assert "GetTask" in (refused.value.details() or "")
    finally:
        await server.stop(None)


class _Counting(UnaryInterceptor):
    """Counts how often it builds a method's wrapper and how often the wrapper runs."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.ran = 0

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        self.built.append(method)

        async def counted(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            self.ran += 1
            return await call(request, context)

        return counted


async def test_interceptors_wrap_a_method_once_and_still_run_on_every_call() -> None:
    counting = _Counting()
    server = grpc.aio.server(interceptors=[counting, ErrorInterceptor()])
    descriptor = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]
    admin_pb2_grpc.add_AdminServiceServicer_to_server(
        servicer(admin_pb2_grpc.AdminServiceServicer, descriptor, {"ListProjects": _list_projects}), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            for _ in range(3):
                assert (await stub.ListProjects(project_pb2.ProjectListRequest())).projects[0].id == "p"
            for _ in range(2):  # the error interceptor beneath still maps every call
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.GetTask(common_pb2.ObjectGetRequest())
                assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
        service = "/flyteidl.service.AdminService"
        assert counting.built == [f"{service}/ListProjects", f"{service}/GetTask"]
        assert counting.ran == 5
    finally:
        await server.stop(None)
