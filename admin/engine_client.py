"""Admin's WorkflowEngine over gRPC: launches and aborts go to propeller's EngineService.

Several engine processes may share one propeller database (`admin.engine_endpoint` lists them,
comma-separated). Launches are spread over them round-robin, skipping one that is unreachable; an
abort may go to any of them, because every engine records it in the shared database and the
execution's owner acts on it. Both calls are idempotent on the engine side, so trying the next
engine after an unreachable one never runs an execution twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from admin.engine import Launch
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2, engine_pb2_grpc
from flyteplane.credentials import presenting
from flyteplane.errors import InvalidArgument, Unavailable
from flyteplane.tracing import propagating

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", 64 << 20),
    # A restarted engine is found again within seconds, not after gRPC's default 2-minute backoff.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]

# The async stub type exists only in the generated stubs (.pyi), hence the string.
EngineCall = Callable[["engine_pb2_grpc.EngineServiceAsyncStub", float], Awaitable[object]]


@dataclass
class GrpcEngine:
    channels: list[grpc.aio.Channel]
    timeout_seconds: float = 30.0
    _next: int = 0

    @classmethod
    def connect(cls, endpoints: str, credential: str) -> GrpcEngine:
        """`endpoints`: one engine's `host:port`, or several separated by commas; every call presents
        the plane credential (the engine refuses callers without it)."""
        addresses = [e.strip() for e in endpoints.split(",") if e.strip()]
        if not addresses:
            raise InvalidArgument("names no engine", field="admin.engine_endpoint")
        return cls(
            [
                grpc.aio.insecure_channel(
                    a, options=CHANNEL_OPTIONS, interceptors=[*presenting(credential), *propagating()]
                )
                for a in addresses
            ]
        )

    def _rotation(self) -> list[grpc.aio.Channel]:
        """The engines in the order to try for the next call: round-robin, known-unreachable ones last."""
        first = self._next
        self._next = (self._next + 1) % len(self.channels)
        ordered = self.channels[first:] + self.channels[:first]
        failing = grpc.ChannelConnectivity.TRANSIENT_FAILURE
        return [c for c in ordered if c.get_state() != failing] + [c for c in ordered if c.get_state() == failing]

    async def _call(self, what: str, call: EngineCall) -> None:
        """Make `call` on one engine: the next in turn that is reachable, waiting up to the timeout for one."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            last: grpc.aio.AioRpcError | None = None
            for channel in self._rotation():
                remaining = deadline - time.monotonic()
                try:
                    await call(engine_pb2_grpc.EngineServiceStub(channel), max(remaining, 0.5))
                    return
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE:
                        raise Unavailable(f"the engine did not take the {what}: {error.details()}") from error
                    last = error
            if time.monotonic() >= deadline:
                details = last.details() if last is not None else "no engine"
                raise Unavailable(f"no engine took the {what}: {details}")
            await asyncio.sleep(0.2)

    async def launch(self, launch: Launch) -> None:
        request = engine_pb2.LaunchRequest(
            execution_id=launch.execution_id,
            closure=launch.closure,
            inputs_uri=launch.inputs_uri,
            spec=launch.spec,
            launch_plan_id=launch.launch_plan_id,
        )
        await self._call("execution", lambda stub, timeout: stub.Launch(request, timeout=timeout))

    async def abort(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        request = engine_pb2.AbortRequest(execution_id=execution_id, cause=cause)
        await self._call("abort", lambda stub, timeout: stub.Abort(request, timeout=timeout))

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
