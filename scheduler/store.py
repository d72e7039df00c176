"""The scheduler's durable state: the leader lease and each launch plan version's last fired tick.

Several schedulers (one per admin replica) share one database; the one holding the lease fires, the
others wait to take it over. A lease is taken when it is free or expired and renewed by its holder;
a holder that cannot renew stops firing before the lease can pass to another (see `Leadership`).
Two holders at once (a paused process waking up late) would still not duplicate an execution: each
tick has one execution name and admin refuses a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from flyteidl_py.core import identifier_pb2
from flyteplane.database import Database, utcnow
from scheduler.models import FiredTick, Lease

LEASE_NAME = "scheduler"
VersionKey = tuple[str, str, str, str]
# Built once: the holder renews every third of the lease, idle or not.
_TAKE_LEASE = (
    update(Lease)
    .where(Lease.name == LEASE_NAME, or_(Lease.holder == bindparam("me"), Lease.expires_at < bindparam("now")))
    .values(holder=bindparam("me"), expires_at=bindparam("until"))
    .returning(Lease.name)
)


def version_key(ident: identifier_pb2.Identifier) -> VersionKey:
    return (ident.project, ident.domain, ident.name, ident.version)


class SchedulerStore:
    def __init__(self, db: Database, owner: str) -> None:
        self.db = db
        self.owner = owner

    async def hold_lease(self, seconds: float) -> bool:
        """Take the lease (free, expired or ours) until `seconds` from now; False when another holds it."""
        now = utcnow()
        async with self.db.session() as session:
            until = now + timedelta(seconds=seconds)
            taken = await session.scalar(_TAKE_LEASE, {"me": self.owner, "now": now, "until": until})
            if taken is not None:
                return True
            if await session.get(Lease, LEASE_NAME) is not None:
                return False
        try:
            async with self.db.session() as session:
                session.add(Lease(name=LEASE_NAME, holder=self.owner, expires_at=now + timedelta(seconds=seconds)))
        except IntegrityError:
            return False  # another scheduler created the row first
        return True

    async def release_lease(self) -> None:
        """Give the lease up now (a clean stop), so another scheduler takes over without waiting for expiry."""
        async with self.db.session() as session:
            await session.execute(
                update(Lease)
                .where(Lease.name == LEASE_NAME, Lease.holder == self.owner)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )

    async def lease_holder(self) -> str | None:
        async with self.db.session() as session:
            lease = await session.get(Lease, LEASE_NAME)
            return None if lease is None or lease.expires_at < utcnow() else lease.holder

    async def fired_ticks(self) -> dict[VersionKey, datetime]:
        """The last fired tick of every launch plan version that ever fired."""
        async with self.db.session() as session:
            rows = await session.scalars(select(FiredTick))
            return {(r.project, r.domain, r.name, r.version): r.last_tick for r in rows}

    async def record_tick(self, key: VersionKey, tick: datetime) -> None:
        """Remember that admin has the execution of `tick` (never moving a version's last tick back)."""
        project, domain, name, version = key
        where = (
            FiredTick.project == project,
            FiredTick.domain == domain,
            FiredTick.name == name,
            FiredTick.version == version,
        )
        async with self.db.session() as session:
            moved = await session.scalar(
                update(FiredTick)
                .where(*where, FiredTick.last_tick < tick)
                .values(last_tick=tick)
                .returning(FiredTick.id)
            )
            if moved is not None or await session.scalar(select(FiredTick.id).where(*where)) is not None:
                return
        try:
            async with self.db.session() as session:
                session.add(FiredTick(project=project, domain=domain, name=name, version=version, last_tick=tick))
        except IntegrityError:
            await self.record_tick(key, tick)  # inserted meanwhile by a former holder: move it instead
