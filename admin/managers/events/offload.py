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

    async def offload(self, data: Message, *parts: str) -> str:
        """Writes the data under admin's metadata prefix; returns its URI."""
        uri = self.ctx.metadata_uri(*parts)
        await self.ctx.storage.write_proto(uri, data)
        return uri
