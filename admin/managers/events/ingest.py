"""The event RPCs: one event per call (AdminService), or a batch in one transaction (EventSinkService).

Each event is checked against its policy before anything is changed, then applied; a refused event
changes nothing. A batch is applied in one transaction, with the rows it touches read up front in a
few queries (`Lookups.prefetch`), so that an event costs no round trip of its own. Every event still
gets the answer its single RPC would give. If the batch's transaction fails as a whole (say two
admins raced to create the same node), it is rolled back and its events are applied again one
transaction each, so one bad event never costs the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from admin.managers.context import AdminContext
from admin.managers.events.node import NodeEvents
from admin.managers.events.offload import EventData
from admin.managers.events.task import TaskEvents
from admin.managers.events.workflow import WorkflowEvents
from admin.repositories.lookups import Lookups
from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.flyteplane.events.v1 import events_pb2
from flyteplane.errors import FlyteplaneError, InvalidArgument

log = logging.getLogger("flyteplane.admin.events")

Request = TypeVar("Request")


def _refusal(error: FlyteplaneError) -> events_pb2.EventResult:
    return events_pb2.EventResult(code=error.code.value[0], message=str(error))


class EventManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx
        data = EventData(ctx)
        self.workflows = WorkflowEvents(ctx, data)
        self.nodes = NodeEvents(ctx, data)
        self.tasks = TaskEvents(ctx, data)

    # ---- one event per RPC (AdminService) ------------------------------------------------------

    async def _one(self, apply: Callable[[Lookups, Request], Awaitable[None]], request: Request) -> None:
        async with self.ctx.db.session() as session:
            await apply(Lookups(session), request)

    async def workflow_event(
        self, request: admin_event_pb2.WorkflowExecutionEventRequest
    ) -> admin_event_pb2.WorkflowExecutionEventResponse:
        await self._one(self.workflows.apply, request)
        return admin_event_pb2.WorkflowExecutionEventResponse()

    async def node_event(
        self, request: admin_event_pb2.NodeExecutionEventRequest
    ) -> admin_event_pb2.NodeExecutionEventResponse:
        await self._one(self.nodes.apply, request)
        return admin_event_pb2.NodeExecutionEventResponse()

    async def task_event(
        self, request: admin_event_pb2.TaskExecutionEventRequest
    ) -> admin_event_pb2.TaskExecutionEventResponse:
        await self._one(self.tasks.apply, request)
        return admin_event_pb2.TaskExecutionEventResponse()

    # ---- batches (EventSinkService) ------------------------------------------------------------

    async def record_events(self, request: events_pb2.RecordEventsRequest) -> events_pb2.RecordEventsResponse:
        """Applies a batch in one transaction; see the module docstring. Answers every event."""
        events = list(request.events)
        for index, item in enumerate(events):
            if item.WhichOneof("kind") is None:
                raise InvalidArgument("an event must be a workflow, node or task event", field=f"events[{index}]")
        try:
            async with self.ctx.db.session() as session:
                lookups = Lookups(session)
                await lookups.prefetch(events)
                results = [await self._apply(lookups, item) for item in events]
        except FlyteplaneError:
            raise
        except Exception:  # the transaction as a whole failed: one transaction per event instead
            log.warning("a batch of %d events failed as a whole; applying them one by one", len(events), exc_info=True)
            results = []
            for item in events:
                try:
                    async with self.ctx.db.session() as session:
                        results.append(await self._apply(Lookups(session), item))
                except FlyteplaneError as error:
                    results.append(_refusal(error))
                except Exception:
                    trace_id = uuid.uuid4().hex
                    log.exception("recording an event failed (trace id %s)", trace_id)
                    code = grpc.StatusCode.INTERNAL.value[0]
                    results.append(events_pb2.EventResult(code=code, message=f"internal error (trace id {trace_id})"))
        return events_pb2.RecordEventsResponse(results=results)

    async def _apply(self, lookups: Lookups, item: events_pb2.Event) -> events_pb2.EventResult:
        """One event of a batch: its result, with nothing changed when it is refused."""
        try:
            kind = item.WhichOneof("kind")
            if kind == "workflow":
                await self.workflows.apply(lookups, item.workflow)
            elif kind == "node":
                await self.nodes.apply(lookups, item.node)
            else:
                await self.tasks.apply(lookups, item.task)
        except FlyteplaneError as error:
            return _refusal(error)
        return events_pb2.EventResult()
