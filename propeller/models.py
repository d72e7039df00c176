"""Propeller's own tables: executions it owns (with leases), per-node state records, the event outbox and the
secrets it delivers to task attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flyteplane.database import NAMING_CONVENTION, UTCDateTime, utcnow


class PropellerBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkflowRecord(PropellerBase):
    """One execution the engine runs: what to run (closure, spec, inputs) and where it stands."""

    __tablename__ = "workflow_executions"
    __table_args__ = (
        UniqueConstraint("project", "domain", "name", name="uq_workflow_executions_key"),
        Index("ix_workflow_executions_active", "terminal", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    phase: Mapped[int] = mapped_column(default=0)
    terminal: Mapped[bool] = mapped_column(default=False)
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # core.CompiledWorkflowClosure
    spec: Mapped[bytes] = mapped_column(LargeBinary)  # admin.ExecutionSpec (resolved)
    inputs_uri: Mapped[str] = mapped_column(String(1024))
    launch_plan: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # core.Identifier
    error: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # core.ExecutionError
    abort_cause: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    started_at: Mapped[float] = mapped_column(default=0.0)
    failed_rounds: Mapped[int] = mapped_column(default=0)
    owner: Mapped[str] = mapped_column(String(255), default="")
    lease_until: Mapped[float] = mapped_column(default=0.0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # The W3C traceparent admin launched it in ("" = none: the trace id derives from the execution id).
    trace_parent: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NodeRecord(PropellerBase):
    """One node's status (propeller.status.NodeStatus as JSON), keyed by its path in the execution."""

    __tablename__ = "node_states"
    __table_args__ = (UniqueConstraint("workflow_id", "key", name="uq_node_states_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workflow_id: Mapped[int] = mapped_column(Integer, ForeignKey("workflow_executions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(1024))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class OutboxEvent(PropellerBase):
    """An event decided in a committed round and not yet acknowledged by admin (sent in id order)."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workflow_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workflow_executions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # workflow | node | task
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class SecretRecord(PropellerBase):
    """One secret of a project (of one domain, or of all when `domain` is ""), sealed by propeller/secrets.py."""

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("project", "domain", "name", name="uq_secrets_key"),)

    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255))
    # nonce + AES-GCM ciphertext; the associated data is project/domain/name, so a value copied to another row
    # does not decrypt.
    value: Mapped[bytes] = mapped_column(LargeBinary)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
