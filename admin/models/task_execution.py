"""Task executions: one row per (task, node execution, retry attempt)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin.models.base import Record
from admin.models.node_execution import NodeExecution
from flyteplane.database import UTCDateTime


class TaskExecution(Record):
    __tablename__ = "task_executions"
    __table_args__ = (
        UniqueConstraint(
            "project",
            "domain",
            "name",
            "version",
            "node_execution_id",
            "retry_attempt",
            name="uq_task_executions_key",
        ),
    )

    # The task's identifier.
    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255))
    # The node execution it belongs to.
    node_execution_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("node_executions.id", ondelete="CASCADE"), index=True
    )
    # Set on a new row whose node is new in the same transaction: the flush fills node_execution_id.
    # Never loaded (lazy="raise"): readers use node_execution_id.
    node_execution: Mapped[NodeExecution] = relationship(lazy="raise")
    execution_project: Mapped[str] = mapped_column(String(63))
    execution_domain: Mapped[str] = mapped_column(String(63))
    execution_name: Mapped[str] = mapped_column(String(63))
    node_id: Mapped[str] = mapped_column(String(255))
    retry_attempt: Mapped[int] = mapped_column(default=0)
    phase: Mapped[str] = mapped_column(String(32))  # core.TaskExecution.Phase name
    phase_version: Mapped[int] = mapped_column(default=0)
    input_uri: Mapped[str] = mapped_column(String(1024), default="")
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # admin.TaskExecutionClosure
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    task_execution_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    task_execution_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[int] = mapped_column(BigInteger, default=0)  # nanoseconds
