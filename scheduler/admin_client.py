"""The scheduler's connection to admin: the schedule feed in, executions out."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from flyteidl_py.admin import execution_pb2
from flyteidl_py.flyteplane.schedules.v1 import schedules_pb2, schedules_pb2_grpc
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.credentials import presenting
from flyteplane.tracing import propagating


@dataclass
class AdminClient:
    channel: grpc.aio.Channel
    timeout: float = 30.0

    @classmethod
    def connect(cls, endpoint: str, credential: str) -> AdminClient:
        """A channel presenting the plane credential: with auth on, admin takes the scheduler for the plane."""
        return cls(grpc.aio.insecure_channel(endpoint, interceptors=[*presenting(credential), *propagating()]))

    async def list_schedules(self, known_revision: str) -> schedules_pb2.ListSchedulesResponse:
        stub = schedules_pb2_grpc.ScheduleServiceStub(self.channel)
        request = schedules_pb2.ListSchedulesRequest(known_revision=known_revision)
        return await stub.ListSchedules(request, timeout=self.timeout)

    async def create_execution(self, request: execution_pb2.ExecutionCreateRequest) -> None:
        await admin_pb2_grpc.AdminServiceStub(self.channel).CreateExecution(request, timeout=self.timeout)

    async def close(self) -> None:
        await self.channel.close()
