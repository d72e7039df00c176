"""Admin's WorkflowEngine over gRPC: launches and aborts go to propeller's EngineService."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from admin.engine import Launch
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2, engine_pb2_grpc
from flyteplane.errors import Unavailable


@dataclass
class GrpcEngine:
    channel: grpc.aio.Channel

    @classmethod
    def connect(cls, endpoint: str) -> GrpcEngine:
        return cls(grpc.aio.insecure_channel(endpoint, options=[("grpc.max_send_message_length", 64 << 20)]))

    @property
    def stub(self) -> engine_pb2_grpc.EngineServiceAsyncStub:
        return engine_pb2_grpc.EngineServiceStub(self.channel)

    async def launch(self, launch: Launch) -> None:
        request = engine_pb2.LaunchRequest(
            execution_id=launch.execution_id,
            closure=launch.closure,
            inputs_uri=launch.inputs_uri,
            spec=launch.spec,
            launch_plan_id=launch.launch_plan_id,
        )
        try:
            await self.stub.Launch(request, timeout=30, wait_for_ready=True)
        except grpc.aio.AioRpcError as error:
            raise Unavailable(f"the engine did not take the execution: {error.details()}") from error

    async def abort(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        try:
            await self.stub.Abort(engine_pb2.AbortRequest(execution_id=execution_id, cause=cause), timeout=30)
        except grpc.aio.AioRpcError as error:
            raise Unavailable(f"the engine did not take the abort: {error.details()}") from error

    async def close(self) -> None:
        await self.channel.close()
