"""flyteidl_py.typed's betterproto2 clients talk to a real grpc.aio server and read real flytekit data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpclib.client import Channel

import flyteidl_py.typed.flyteidl.admin as typed_admin
import flyteidl_py.typed.flyteidl.core as typed_core
import flyteidl_py.typed.flyteidl.service as typed_service
from flyteidl_py.admin import version_pb2
from flyteidl_py.core import literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support.paths import fixtures_dir


class _VersionOnly(admin_pb2_grpc.AdminServiceServicer):
    """Answers GetVersion only: enough to prove the typed client's framing and decoding."""

    async def GetVersion(
        self, request: version_pb2.GetVersionRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> version_pb2.GetVersionResponse:
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(Build="abc123", Version="9.9.9", BuildTime="today")
        )


@pytest.fixture
async def admin_port() -> AsyncIterator[int]:
    server = grpc.aio.server()
    admin_pb2_grpc.add_AdminServiceServicer_to_server(_VersionOnly(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await server.stop(None)


async def test_async_typed_client_reads_a_response_from_a_grpc_aio_server(admin_port: int) -> None:
    channel = Channel("127.0.0.1", admin_port)
    try:
        reply = await typed_service.AdminServiceStub(channel).get_version(typed_admin.GetVersionRequest())
    finally:
        channel.close()
    assert reply.control_plane_version is not None
    assert (reply.control_plane_version.version, reply.control_plane_version.build) == ("9.9.9", "abc123")


async def test_sync_typed_client_reads_a_response_from_a_grpc_aio_server(admin_port: int) -> None:
    def call() -> typed_admin.GetVersionResponse:
        with grpc.insecure_channel(f"127.0.0.1:{admin_port}") as channel:
            return typed_service.AdminServiceSyncStub(channel).get_version()

    reply = await asyncio.to_thread(call)
    assert reply.control_plane_version is not None
    assert reply.control_plane_version.build_time == "today"


def test_typed_messages_decode_flytekit_outputs_to_the_same_values() -> None:
    data = (fixtures_dir() / "runtime" / "scalars.outputs.pb").read_bytes()
    typed = typed_core.LiteralMap.parse(data)
    assert set(typed.literals) == set(literals_pb2.LiteralMap.FromString(data).literals)
    assert literals_pb2.LiteralMap.FromString(bytes(typed)) == literals_pb2.LiteralMap.FromString(data)
