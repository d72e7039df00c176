"""Node executions: one row per node id as propeller reports it (nested nodes have unique ids)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin.models.base import Record
from flyteplane.database import UTCDateTime


class NodeExecution(Record):
    __tablename__ = "node_executions"
    __table_args__ = (UniqueConstraint("execution_id", "node_id", name="uq_node_executions_key"),)

    execution_id: Mapped[int] = mapped_column(Integer, ForeignKey("executions.id", ondelete="CASCADE"))
    execution_project: Mapped[str] = mapped_column(String(63))
    execution_domain: Mapped[str] = mapped_column(String(63))
    execution_name: Mapped[str] = mapped_column(String(63))
    node_id: Mapped[str] = mapped_column(String(255))
    phase: Mapped[str] = mapped_column(String(32))  # core.NodeExecution.Phase name
    input_uri: Mapped[str] = mapped_column(String(1024), default="")
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # admin.NodeExecutionClosure
    metadata_: Mapped[bytes] = mapped_column("node_execution_metadata", LargeBinary, default=b"")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    node_execution_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    node_execution_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[int] = mapped_column(BigInteger, default=0)  # nanoseconds
    parent_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("node_executions.id"), index=True)
    # Set on a new row whose parent is new in the same transaction: the flush fills parent_id. Never loaded.
    parent: Mapped[NodeExecution | None] = relationship(remote_side="NodeExecution.id", lazy="raise")
    parent_task_execution_id: Mapped[int | None] = mapped_column(Integer, index=True)
    error_kind: Mapped[str] = mapped_column(String(32), default="")
    error_code: Mapped[str] = mapped_column(String(255), default="")
    cache_status: Mapped[str] = mapped_column(String(32), default="")
    dynamic_workflow_remote_closure_reference: Mapped[str] = mapped_column(String(1024), default="")
    dynamic_workflow: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # admin.DynamicWorkflowNodeMetadata
    internal_data: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    # The execution this node stands for: an eager task's sub-execution, recorded under the eager task's
    # node (admin.managers.eager). Admin writes these nodes itself; no engine reports them.
    child_execution_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("executions.id", ondelete="CASCADE"), index=True, unique=True
    )
