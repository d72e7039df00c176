"""Queries on reservations, each one statement so that racing callers are decided by the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datacatalog.keys import ReservationKey
from datacatalog.models import Reservation
from datacatalog.repositories import insert


def _is(key: ReservationKey) -> ColumnElement[bool]:
    return and_(
        Reservation.project == key.dataset.project,
        Reservation.name == key.dataset.name,
        Reservation.domain == key.dataset.domain,
        Reservation.version == key.dataset.version,
        Reservation.org == key.dataset.org,
        Reservation.tag_name == key.tag_name,
    )


async def find(session: AsyncSession, key: ReservationKey) -> Reservation | None:
    return (await session.execute(select(Reservation).where(_is(key)))).scalar_one_or_none()


async def take_over(
    session: AsyncSession, key: ReservationKey, owner_id: str, expires_at: datetime, now: datetime
) -> bool:
    """Extends the owner's reservation or takes over an expired one; False when there is none to take."""
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update(Reservation)
            .where(_is(key), or_(Reservation.owner_id == owner_id, Reservation.expires_at < now))
            .values(owner_id=owner_id, expires_at=expires_at, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return bool(result.rowcount)


async def create(
    session: AsyncSession, key: ReservationKey, owner_id: str, expires_at: datetime, now: datetime
) -> None:
    """Inserts the reservation; ALREADY_EXISTS when a row for the key exists (someone else got there first)."""
    reservation = Reservation(
        **key.dataset.columns(),
        tag_name=key.tag_name,
        owner_id=owner_id,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    await insert(session, reservation, "reservation already exists", field="reservation_id")


async def release(session: AsyncSession, key: ReservationKey, owner_id: str) -> bool:
    """Deletes the reservation if `owner_id` holds it; False when there was nothing of theirs to delete."""
    result = cast(
        "CursorResult[Any]",
        await session.execute(delete(Reservation).where(_is(key), Reservation.owner_id == owner_id)),
    )
    return bool(result.rowcount)
