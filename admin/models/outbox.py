"""The outbox: notifications and CloudEvents written with the phase change that caused them, kept until delivered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record
from flyteplane.database import UTCDateTime


class OutboxMessage(Record):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_next_attempt_at", "next_attempt_at"),)

    # How it travels ("email" or "webhook") and what it is, for logs and metrics
    # ("email", "pager_duty", "slack", "cloud_event").
    transport: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255), default="")  # project/domain/name of the execution
    payload: Mapped[str] = mapped_column(Text)  # JSON: the rendered message and where it goes
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(1024), default="")
