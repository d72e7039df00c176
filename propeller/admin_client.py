"""Propeller's connection to admin: events out, and the few reads and writes node handlers need.

Event delivery follows Flyte's propeller: ALREADY_EXISTS means admin has the event (a re-send after
a crash), an already-terminal answer for a terminal event is fine; anything unreachable is retried
later, and the event stays in the outbox until admin acknowledges it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc

from flyteidl_py.admin import (
    common_pb2,
    event_pb2,
    execution_pb2,
    launch_plan_pb2,
    signal_pb2,
)
from flyteidl_py.core import identifier_pb2, literals_pb2, types_pb2
from flyteidl_py.service import admin_pb2_grpc, signal_pb2_grpc

log = logging.getLogger("flyteplane.propeller.events")

_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
}


class EventNotDelivered(Exception):
    """Admin could not be reached or answered with a transient error; retry later."""


@dataclass
class AdminClient:
    channel: grpc.aio.Channel

    @classmethod
    def connect(cls, endpoint: str) -> AdminClient:
        return cls(grpc.aio.insecure_channel(endpoint, options=[("grpc.max_receive_message_length", 20 << 20)]))

    @property
    def admin(self) -> admin_pb2_grpc.AdminServiceAsyncStub:
        return admin_pb2_grpc.AdminServiceStub(self.channel)

    @property
    def signals(self) -> signal_pb2_grpc.SignalServiceAsyncStub:
        return signal_pb2_grpc.SignalServiceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def send_event(self, kind: str, payload: bytes) -> None:
        """Deliver one event; returns when admin has it (or has refused it for good)."""
        admin = self.admin
        try:
            if kind == "workflow":
                await admin.CreateWorkflowEvent(event_pb2.WorkflowExecutionEventRequest.FromString(payload), timeout=30)
            elif kind == "node":
                await admin.CreateNodeEvent(event_pb2.NodeExecutionEventRequest.FromString(payload), timeout=30)
            else:
                await admin.CreateTaskEvent(event_pb2.TaskExecutionEventRequest.FromString(payload), timeout=30)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code == grpc.StatusCode.ALREADY_EXISTS:
                return
            if code in _TRANSIENT:
                raise EventNotDelivered(f"{kind} event: {code.name} {error.details()}") from error
            # FAILED_PRECONDITION (already terminal / another cluster), NOT_FOUND, INVALID_ARGUMENT:
            # re-sending cannot help; record it and move on so later events are not stuck behind it.
            log.warning("admin refused a %s event: %s %s", kind, code.name, error.details())

    async def get_or_create_signal(
        self, ident: identifier_pb2.SignalIdentifier, literal_type: types_pb2.LiteralType
    ) -> signal_pb2.Signal:
        return await self.signals.GetOrCreateSignal(signal_pb2.SignalGetOrCreateRequest(id=ident, type=literal_type))

    async def create_execution(self, request: execution_pb2.ExecutionCreateRequest) -> None:
        try:
            await self.admin.CreateExecution(request, timeout=60)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise

    async def get_execution(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
        return await self.admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident), timeout=30)

    async def get_outputs(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> literals_pb2.LiteralMap:
        data = await self.admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident), timeout=30)
        return data.full_outputs

    async def terminate(self, ident: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        try:
            await self.admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause=cause))
        except grpc.aio.AioRpcError as error:
            if error.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                raise

    async def launch_plan(self, ident: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        return await self.admin.GetLaunchPlan(common_pb2.ObjectGetRequest(id=ident), timeout=30)
