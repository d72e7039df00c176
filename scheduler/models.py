"""The scheduler's tables: the leader lease, and the last tick fired per launch plan version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flyteplane.database import NAMING_CONVENTION, UTCDateTime


class SchedulerBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Lease(SchedulerBase):
    """Who fires schedules: one row per lease name, held until `expires_at` unless renewed."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FiredTick(SchedulerBase):
    """The latest tick of a launch plan version whose execution admin has (created now or before)."""

    __tablename__ = "scheduler_fired_ticks"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "version", name="uq_scheduler_fired_ticks_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255))
    last_tick: Mapped[datetime] = mapped_column(UTCDateTime)
