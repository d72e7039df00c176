"""Workflow executions and their tags (labels of the request and `spec.tags`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record
from flyteplane.database import UTCDateTime


class Execution(Record):
    __tablename__ = "executions"
    __table_args__ = (
        UniqueConstraint("execution_project", "execution_domain", "execution_name", name="uq_executions_key"),
        Index("ix_executions_phase", "phase"),
    )

    execution_project: Mapped[str] = mapped_column(String(63))
    execution_domain: Mapped[str] = mapped_column(String(63))
    execution_name: Mapped[str] = mapped_column(String(63))
    org: Mapped[str] = mapped_column(String(63), default="")
    launch_plan_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("launch_plans.id"), index=True)
    workflow_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("workflows.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("tasks.id"), index=True)
    phase: Mapped[str] = mapped_column(String(32))  # core.WorkflowExecution.Phase name
    spec: Mapped[bytes] = mapped_column(LargeBinary)  # admin.ExecutionSpec
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # admin.ExecutionClosure
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    execution_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    execution_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[int] = mapped_column(BigInteger, default=0)  # nanoseconds
    abort_cause: Mapped[str] = mapped_column(String(255), default="")
    mode: Mapped[int] = mapped_column(default=0)  # admin.ExecutionMetadata.ExecutionMode
    source_execution_id: Mapped[int | None] = mapped_column(Integer)
    parent_node_execution_id: Mapped[int | None] = mapped_column(Integer)
    # The eager execution whose eager task launched this one, while admin has not heard of that task's
    # node yet (admin.managers.eager.EagerLink); the node's first event attaches it.
    eager_parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cluster: Mapped[str] = mapped_column(String(255), default="")
    inputs_uri: Mapped[str] = mapped_column(String(1024), default="")
    user_inputs_uri: Mapped[str] = mapped_column(String(1024), default="")
    error_kind: Mapped[str] = mapped_column(String(32), default="")
    error_code: Mapped[str] = mapped_column(String(255), default="")
    user: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[int] = mapped_column(default=0)  # admin.ExecutionState: ACTIVE 0, ARCHIVED 1
    launch_entity: Mapped[str] = mapped_column(String(32), default="launch_plan")


class ExecutionTag(Record):
    __tablename__ = "execution_tags"
    __table_args__ = (UniqueConstraint("execution_id", "key", "value", name="uq_execution_tags_key"),)

    execution_id: Mapped[int] = mapped_column(Integer, ForeignKey("executions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255), default="")
