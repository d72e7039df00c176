"""Reservations: who may compute the artifact for one (dataset id, tag) until when.

Keyed by the dataset id's fields rather than a dataset row: propeller reserves before the
dataset exists (it creates the dataset only when it stores the first artifact).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datacatalog.models.base import Record
from flyteplane.database import UTCDateTime


class Reservation(Record):
    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("project", "name", "domain", "version", "org", "tag_name", name="uq_reservations_key"),
    )

    project: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    domain: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(512))
    org: Mapped[str] = mapped_column(String(128), default="")
    tag_name: Mapped[str] = mapped_column(String(512))
    owner_id: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
