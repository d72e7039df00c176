"""The data an event carries inline: refused above the size limit, else written to the store for the record."""

from __future__ import annotations

from google.protobuf.message import Message

from admin.managers.context import AdminContext
from flyteplane.errors import ResourceExhausted


class EventData:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def check_size(self, data: Message, field: str) -> None:
        """RESOURCE_EXHAUSTED when inline data is larger than the platform accepts."""
        size, limit = data.ByteSize(), self.ctx.config.max_inline_bytes
        if size > limit:
            raise ResourceExhausted(
                f"Output data size exceeds platform configured threshold ({size} > {limit})", field=field
            )

    def location(self, *parts: str) -> str:
        """Where data offloaded under `parts` goes (admin's metadata prefix); nothing is written yet."""
        return self.ctx.metadata_uri(*parts)

    async def write(self, pending: list[tuple[str, Message]]) -> None:
        """Writes an accepted event's data. Called only once every check passed: a refused event
        writes nothing (its path segments would otherwise be the sender's choice)."""
        for uri, data in pending:
            await self.ctx.storage.write_proto(uri, data)
