"""The declarative base of admin's tables and the columns every record carries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flyteplane.database import NAMING_CONVENTION, UTCDateTime, utcnow


class AdminBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Record(AdminBase):
    """Surrogate key and bookkeeping timestamps (the `created_at` that list sorting uses)."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
