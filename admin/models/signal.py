"""Signals: values a gate node waits for, set by users through SignalService."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record


class Signal(Record):
    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("execution_project", "execution_domain", "execution_name", "signal_id", name="uq_signals_key"),
    )

    execution_project: Mapped[str] = mapped_column(String(63))
    execution_domain: Mapped[str] = mapped_column(String(63))
    execution_name: Mapped[str] = mapped_column(String(63))
    signal_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[bytes] = mapped_column(LargeBinary)  # core.LiteralType
    value: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # core.Literal; empty until set
