"""What the per-kind event appliers share: their context, the event data offloader, and the request's event."""

from __future__ import annotations

from typing import Protocol, TypeVar

from admin.managers.context import AdminContext
from admin.managers.events.offload import EventData
from admin.managers.notifications import OutboxWriter
from flyteplane.errors import InvalidArgument

Event_co = TypeVar("Event_co", covariant=True)


class EventRequest(Protocol[Event_co]):
    """AdminService's Create*EventRequest: an event that may be missing."""

    @property
    def event(self) -> Event_co: ...

    def HasField(self, field_name: str) -> bool: ...


def event_of(request: EventRequest[Event_co]) -> Event_co:
    """The request's event; INVALID_ARGUMENT when it carries none."""
    if not request.HasField("event"):
        raise InvalidArgument("missing event", field="event")
    return request.event


class Applier:
    def __init__(self, ctx: AdminContext, data: EventData) -> None:
        self.ctx = ctx
        self.data = data
        self.outbox = OutboxWriter(ctx.config)  # notifications and CloudEvents, in the event's transaction
