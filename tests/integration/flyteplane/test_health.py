"""No client of grpc.health.v1 can starve the process or hold up its shutdown.

A Watch stream stays open until the client goes away; clients that open some and never read or
close them are ordinary (load balancers, forgotten probes). They must not take threads the object
store needs, nor keep the server from stopping.
"""

from __future__ import annotations

import asyncio
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from flyteplane.rpc import add_health_and_reflection

ABANDONED_STREAMS = 24  # more than the default executor's threads on any machine we run on


async def _serve() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    await add_health_and_reflection(server, ["flyteplane.test.Service"])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def test_abandoned_watch_streams_leave_threads_for_the_store_and_let_the_server_stop() -> None:
    server, port = await _serve()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = health_pb2_grpc.HealthStub(channel)
    streams = [stub.Watch(health_pb2.HealthCheckRequest(service="")) for _ in range(ABANDONED_STREAMS)]
    first = await streams[0].read()  # the streams are open and answered once, then left unread
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    await asyncio.sleep(0.5)

    # What the object store does for every file operation: a hop through the default executor.
    assert await asyncio.wait_for(asyncio.gather(*(asyncio.to_thread(time.sleep, 0.01) for _ in range(8))), 10)
    check = await asyncio.wait_for(stub.Check(health_pb2.HealthCheckRequest(service="flyteplane.test.Service")), 10)
    assert check.status == health_pb2.HealthCheckResponse.SERVING

    began = time.monotonic()
    await asyncio.wait_for(server.stop(grace=1.0), 10)
    assert time.monotonic() - began < 10
    await channel.close()
