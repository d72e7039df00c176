"""Propeller's connection to admin: events out, and the few reads and writes node handlers need.

Events go out in batches through flyteplane's EventSinkService (one RPC and, on admin's side, one
transaction for many events); an admin without it gets them one per RPC through AdminService.
Either way each event's answer is read as Flyte's propeller reads it: ALREADY_EXISTS means admin has
the event (a re-send after a crash); a refusal that re-sending cannot change (an illegal transition,
an unknown execution, a malformed event) is logged and the event dropped so later events are not
stuck behind it; anything transient (admin unreachable, overloaded, failing) stops the batch there,
and that event and those after it stay in the outbox to be sent again.
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
from flyteidl_py.flyteplane.events.v1 import events_pb2, events_pb2_grpc
from flyteidl_py.service import admin_pb2_grpc, signal_pb2_grpc
from flyteplane.credentials import presenting
from flyteplane.rpc import TRANSIENT_CODES
from flyteplane.tracing import propagating

log = logging.getLogger("flyteplane.propeller.events")


class EventNotDelivered(Exception):
    """Admin could not be reached or answered with a transient error; retry later."""


_TRANSIENT_NUMBERS = {code.value[0] for code in TRANSIENT_CODES}
_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
_DONE_CODES = {grpc.StatusCode.OK.value[0], grpc.StatusCode.ALREADY_EXISTS.value[0]}


@dataclass
class AdminClient:
    channel: grpc.aio.Channel
    batches: bool = True  # False once admin answered UNIMPLEMENTED for EventSinkService

    @classmethod
    def connect(cls, endpoint: str, credential: str) -> AdminClient:
        """A channel to admin that presents the plane credential (its event RPCs demand it)."""
        options = [("grpc.max_receive_message_length", 20 << 20)]
        return cls(
            grpc.aio.insecure_channel(endpoint, options=options, interceptors=[*presenting(credential), *propagating()])
        )

    @property
    def admin(self) -> admin_pb2_grpc.AdminServiceAsyncStub:
        return admin_pb2_grpc.AdminServiceStub(self.channel)

    @property
    def signals(self) -> signal_pb2_grpc.SignalServiceAsyncStub:
        return signal_pb2_grpc.SignalServiceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def send_events(self, events: list[tuple[str, bytes]]) -> int:
        """Deliver events in order; returns how many of them, from the first, admin has dealt with
        (recorded, had already, or refused for good). Fewer than all: the next one met a transient
        error and should be sent again later. Raises EventNotDelivered when admin is unreachable."""
        if not self.batches:
            for done, (kind, payload) in enumerate(events):
                try:
                    await self.send_event(kind, payload)
                except EventNotDelivered:
                    if done == 0:
                        raise
                    return done
            return len(events)
        request = events_pb2.RecordEventsRequest()
        for kind, payload in events:
            getattr(request.events.add(), kind).MergeFromString(payload)
        try:
            response = await events_pb2_grpc.EventSinkServiceStub(self.channel).RecordEvents(request, timeout=60)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                log.info("admin has no EventSinkService: sending events one by one")
                self.batches = False
                return await self.send_events(events)
            raise EventNotDelivered(f"{len(events)} events: {error.code().name} {error.details()}") from error
        for done, ((kind, _), result) in enumerate(zip(events, response.results, strict=False)):
            if result.code in _TRANSIENT_NUMBERS:
                log.warning("admin could not take a %s event yet: %s", kind, result.message)
                return done
            if result.code not in _DONE_CODES:
                log.warning(
                    "admin refused a %s event: %s %s", kind, _CODE_NAMES.get(result.code, result.code), result.message
                )
        return min(len(events), len(response.results))

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
            if code in TRANSIENT_CODES:
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
