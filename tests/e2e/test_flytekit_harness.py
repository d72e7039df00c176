"""The flytekit harness itself: a flytekit call that would hang forever fails fast, naming why.

The server here is deliberately not admin: it answers every AdminService call with UNKNOWN (what
grpcio sends for an uncaught exception) and the auth metadata admin gives, which is exactly the
situation in which flytekit starts a browser login and never returns.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from admin.service import auth_routes
from tests.support.flytekit import Flytekit, FlytekitFailed

PROBE = Path(__file__).with_name("flyteremote_probe.py")


class _UnknownForAdmin(grpc.GenericRpcHandler):
    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any]:
        service, _, method = details.method.lstrip("/").partition("/")

        async def answer(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
            if service == "flyteidl.service.AuthMetadataService":
                response = await auth_routes("http://127.0.0.1:9")[method](request)
                serialized: bytes = response.SerializeToString()
                return serialized
            raise RuntimeError("an exception no handler mapped to a status")

        return grpc.unary_unary_rpc_method_handler(answer)


@pytest.fixture
async def unknown_answering_port() -> AsyncIterator[int]:
    server = grpc.aio.server(handlers=[_UnknownForAdmin()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await server.stop(0)


async def test_a_call_answered_with_unknown_fails_fast_naming_the_cause(
    flytekit_venv: Path, unknown_answering_port: int, tmp_path: Path
) -> None:
    flytekit = Flytekit.for_admin(flytekit_venv, unknown_answering_port, 9, tmp_path)
    started = time.monotonic()

    with pytest.raises(FlytekitFailed, match="UNKNOWN") as failure:
        await flytekit.remote(PROBE, {"action": "fetch_execution", "name": "any"}, time_limit=60)

    assert "browser login" in str(failure.value)
    assert time.monotonic() - started < 30
