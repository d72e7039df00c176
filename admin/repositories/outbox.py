"""Queries on the outbox: claiming due messages for delivery, then deleting or rescheduling them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import OutboxMessage
from flyteplane.database import Database

# Built once: an idle admin asks this every poll (`poll_interval_seconds`).
_ANY_DUE = select(OutboxMessage.id).where(OutboxMessage.next_attempt_at <= bindparam("now")).limit(1)


async def any_due(database: Database, now: datetime) -> bool:
    """Whether a message of any channel is due at `now`: one row of the due-time index, read on a connection of
    its own, so that a poll with nothing to send builds no statement and holds no transaction."""
    return bool(await database.rows(_ANY_DUE, {"now": now}))


async def claim_due(
    session: AsyncSession,
    channel: str,
    now: datetime,
    limit: int,
    lease_until: datetime,
    *,
    exclude: Sequence[int] = (),
) -> list[OutboxMessage]:
    """Up to `limit` messages of the channel due at `now`, oldest first, leased until `lease_until`.

    The lease (a later next_attempt_at) keeps another admin sharing the database from sending the
    same message while this one does; if this one dies, the lease runs out and the message is sent
    again (at least once). On PostgreSQL rows another admin is claiming are skipped, not waited for.
    """
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at)
    )
    if exclude:
        query = query.where(OutboxMessage.id.not_in(exclude))
    rows = list(await session.scalars(query.limit(limit).with_for_update(skip_locked=True)))
    for row in rows:
        row.next_attempt_at = lease_until
    return rows


async def remove(session: AsyncSession, message_id: int) -> None:
    """A message delivered (or given up): gone from the outbox."""
    await session.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id))


async def failed(session: AsyncSession, message_id: int, attempts: int, next_attempt_at: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:1024])
    )


async def release(session: AsyncSession, message_ids: Sequence[int], now: datetime) -> None:
    """Messages whose sending was abandoned: due again now."""
    await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids)).values(next_attempt_at=now))


async def pending(session: AsyncSession) -> int:
    """How many messages wait for delivery (or are being delivered)."""
    return int(await session.scalar(select(func.count(OutboxMessage.id))) or 0)
