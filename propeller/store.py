"""Propeller's durable state: executions with leases, per-node records, and the event outbox.

A round loads an execution once (then works on the in-memory copy), and `save` writes the workflow
row, every node record the round touched and the round's events in one transaction — guarded by
the lease, so a process that lost an execution to another can no longer write it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Select, Table, bindparam, delete, insert, or_, select, update

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import compiler_pb2, identifier_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2
from flyteplane.database import Database
from flyteplane.errors import Aborted, NotFound
from flyteplane.tracing import execution_ids
from propeller.derived import Derived
from propeller.models import NodeRecord, OutboxEvent, WorkflowRecord
from propeller.status import NodeStatus, WorkflowPhase


@dataclass
class ExecutionState:
    """The working copy of one execution during a round."""

    record_id: int
    ident: identifier_pb2.WorkflowExecutionIdentifier
    phase: WorkflowPhase
    closure: compiler_pb2.CompiledWorkflowClosure
    spec: execution_pb2.ExecutionSpec
    inputs_uri: str
    launch_plan: identifier_pb2.Identifier
    error: bytes
    abort_cause: str | None
    started_at: float
    failed_rounds: int
    version: int
    trace_parent: str = ""  # W3C traceparent of the launch ("" when it came with none)
    nodes: dict[str, NodeStatus] = field(default_factory=dict)
    persisted: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    events: list[tuple[str, bytes]] = field(default_factory=list)
    # Spans of what ended this round, recorded once the round is committed (propeller.traces; tracing on only).
    spans: list[Callable[[], None]] = field(default_factory=list)
    # Derived from the closure and the records, never persisted (e.g. the top-level scope with its graph order).
    derived: Derived = field(default_factory=Derived)

    def log_fields(self) -> dict[str, str]:
        """Whose a line logged during this execution's round is (flyteplane.logs.LogSource)."""
        e = self.ident
        trace_id, _ = execution_ids(e.project, e.domain, e.name, self.trace_parent)
        return {"project": e.project, "domain": e.domain, "execution": e.name, "trace_id": f"{trace_id:032x}"}

    def node(self, key: str) -> NodeStatus:
        status = self.nodes.get(key)
        if status is None:
            status = self.nodes[key] = NodeStatus()
        return status

    def touch(self, key: str) -> None:
        self.dirty.add(key)

    def emit(self, kind: str, payload: bytes) -> None:
        self.events.append((kind, payload))

    @property
    def changed(self) -> bool:
        return bool(self.dirty or self.events)


_NODES = cast(Table, NodeRecord.__table__)
_OUTBOX = cast(Table, OutboxEvent.__table__)
_UPDATE_NODE = (
    update(_NODES)
    .where(_NODES.c.workflow_id == bindparam("b_workflow"), _NODES.c.key == bindparam("b_key"))
    .values(data=bindparam("data"))
)
_INSERT_NODES = insert(_NODES)
_INSERT_OUTBOX = insert(_OUTBOX)
# The statements of every round, built once (a statement made per call costs more CPU than SQLite
# takes to run it). Their parameters are prefixed: update() reserves the columns' own names.
_SAVE_WORKFLOW = (
    update(WorkflowRecord)
    .where(WorkflowRecord.id == bindparam("b_id"), WorkflowRecord.owner == bindparam("b_owner"))
    .values(
        phase=bindparam("b_phase"),
        terminal=bindparam("b_terminal"),
        error=bindparam("b_error"),
        started_at=bindparam("b_started_at"),
        failed_rounds=bindparam("b_failed_rounds"),
        version=bindparam("b_version"),
        lease_until=bindparam("b_lease_until"),
    )
)
_NODES_OF = select(NodeRecord.key, NodeRecord.data).where(NodeRecord.workflow_id == bindparam("workflow_id"))
_ABORT_CAUSE = select(WorkflowRecord.abort_cause).where(WorkflowRecord.id == bindparam("id"))
_NEXT_EVENTS = (
    select(OutboxEvent)
    .join(WorkflowRecord, WorkflowRecord.id == OutboxEvent.workflow_id)
    .where(WorkflowRecord.owner == bindparam("owner"))
    .order_by(OutboxEvent.id)
    .limit(bindparam("limit"))
)
_ACK = delete(OutboxEvent).where(OutboxEvent.id.in_(bindparam("ids", expanding=True)))


class LeaseLost(Aborted):
    """Another engine process owns this execution now; drop the working copy."""


class Store:
    def __init__(self, db: Database, owner: str, lease_seconds: float) -> None:
        self.db = db
        self.owner = owner
        self.lease_seconds = lease_seconds

    async def create(self, launch: engine_pb2.LaunchRequest, trace_parent: str = "") -> int:
        """Persist a launched execution (owned by this process); an existing one is returned as is."""
        ident = launch.execution_id
        async with self.db.session() as session:
            existing = await session.scalar(self._key(ident))
            if existing is not None:
                return int(existing.id)
            record = WorkflowRecord(
                project=ident.project,
                domain=ident.domain,
                name=ident.name,
                closure=launch.closure.SerializeToString(),
                spec=launch.spec.SerializeToString(),
                inputs_uri=launch.inputs_uri,
                launch_plan=launch.launch_plan_id.SerializeToString(),
                owner=self.owner,
                lease_until=time.time() + self.lease_seconds,
                trace_parent=trace_parent,
            )
            session.add(record)
            await session.flush()
            return int(record.id)

    @staticmethod
    def _key(ident: identifier_pb2.WorkflowExecutionIdentifier) -> Select[WorkflowRecord]:
        return select(WorkflowRecord).where(
            WorkflowRecord.project == ident.project,
            WorkflowRecord.domain == ident.domain,
            WorkflowRecord.name == ident.name,
        )

    async def find(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> WorkflowRecord:
        async with self.db.session() as session:
            record: WorkflowRecord | None = await session.scalar(self._key(ident))
        if record is None:
            raise NotFound(f"execution {ident.project}/{ident.domain}/{ident.name} is unknown to the engine")
        return record

    async def load(self, record_id: int) -> ExecutionState:
        async with self.db.session() as session:
            record = await session.get(WorkflowRecord, record_id)
            if record is None:
                raise NotFound(f"execution record {record_id} not found")
            rows = list(await session.execute(_NODES_OF, {"workflow_id": record_id}))
        state = ExecutionState(
            record_id=record.id,
            ident=identifier_pb2.WorkflowExecutionIdentifier(
                project=record.project, domain=record.domain, name=record.name
            ),
            phase=WorkflowPhase(record.phase),
            closure=compiler_pb2.CompiledWorkflowClosure.FromString(record.closure),
            spec=execution_pb2.ExecutionSpec.FromString(record.spec),
            inputs_uri=record.inputs_uri,
            launch_plan=identifier_pb2.Identifier.FromString(record.launch_plan),
            error=record.error,
            abort_cause=record.abort_cause,
            started_at=record.started_at,
            failed_rounds=record.failed_rounds,
            version=record.version,
            trace_parent=record.trace_parent,
        )
        for key, data in rows:
            state.nodes[key] = NodeStatus.from_json(data)
            state.persisted.add(key)
        return state

    async def refresh_control(self, state: ExecutionState) -> None:
        """Pick up an abort requested since the working copy was loaded."""
        async with self.db.session() as session:
            cause = await session.scalar(_ABORT_CAUSE, {"id": state.record_id})
        state.abort_cause = cause

    async def save(self, state: ExecutionState) -> None:
        """Write the round: workflow row, touched node records, new events — atomically, under the lease."""
        async with self.db.session() as session:
            # On the session's connection, not through the session: the ORM's handling of an UPDATE (matching
            # the rows it changed against the objects the session holds -- none here) cost twice the statement.
            connection = await session.connection()
            result = await connection.execute(
                _SAVE_WORKFLOW,
                {
                    "b_id": state.record_id,
                    "b_owner": self.owner,
                    "b_phase": int(state.phase),
                    "b_terminal": state.phase.is_terminal,
                    "b_error": state.error,
                    "b_started_at": state.started_at,
                    "b_failed_rounds": state.failed_rounds,
                    "b_version": state.version + 1,
                    "b_lease_until": time.time() + self.lease_seconds,
                },
            )
            if result.rowcount != 1:
                raise LeaseLost(f"lost the lease on execution {state.ident.name}")
            updates = [
                {"b_workflow": state.record_id, "b_key": key, "data": state.nodes[key].to_json()}
                for key in state.dirty
                if key in state.persisted
            ]
            inserts = [
                {"workflow_id": state.record_id, "key": key, "data": state.nodes[key].to_json()}
                for key in state.dirty
                if key not in state.persisted
            ]
            if updates:  # one executemany, not a statement per node
                await connection.execute(_UPDATE_NODE, updates)
            if inserts:
                await connection.execute(_INSERT_NODES, inserts)
            if state.events:
                await connection.execute(
                    _INSERT_OUTBOX,
                    [{"workflow_id": state.record_id, "kind": k, "payload": p} for k, p in state.events],
                )
        state.version += 1
        state.persisted |= state.dirty
        state.dirty.clear()
        state.events.clear()

    async def pending_events(self, record_id: int) -> list[OutboxEvent]:
        async with self.db.session() as session:
            return list(
                await session.scalars(
                    select(OutboxEvent).where(OutboxEvent.workflow_id == record_id).order_by(OutboxEvent.id)
                )
            )

    async def next_events(self, limit: int, max_bytes: int) -> list[OutboxEvent]:
        """The oldest undelivered events of the executions this process owns, in the order they were
        decided: at most `limit` of them and about `max_bytes` of payload (at least one)."""
        async with self.db.session() as session:
            rows = list(await session.scalars(_NEXT_EVENTS, {"owner": self.owner, "limit": limit}))
        size = 0
        for count, row in enumerate(rows):
            size += len(row.payload)
            if size > max_bytes and count:
                return rows[:count]
        return rows

    async def ack(self, event_ids: list[int]) -> None:
        if event_ids:
            async with self.db.session() as session:
                await (await session.connection()).execute(_ACK, {"ids": event_ids})  # as `save`'s UPDATE

    async def request_abort(self, ident: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> int | None:
        async with self.db.session() as session:
            record = await session.scalar(self._key(ident))
            if record is None or record.terminal:
                return None
            record.abort_cause = cause
            return int(record.id)

    async def claim(self, limit: int = 1000) -> list[int]:
        """Take over executions nobody holds (or whose holder's lease ran out); renew our own."""
        now = time.time()
        async with self.db.session() as session:
            ids = list(
                await session.scalars(
                    select(WorkflowRecord.id)
                    .where(
                        WorkflowRecord.terminal.is_(False),
                        or_(WorkflowRecord.owner == self.owner, WorkflowRecord.lease_until < now),
                    )
                    .limit(limit)
                )
            )
            if ids:
                await session.execute(
                    update(WorkflowRecord)
                    .where(
                        WorkflowRecord.id.in_(ids),
                        or_(WorkflowRecord.owner == self.owner, WorkflowRecord.lease_until < now),
                    )
                    .values(owner=self.owner, lease_until=now + self.lease_seconds)
                )
            claimed = list(
                await session.scalars(
                    select(WorkflowRecord.id).where(WorkflowRecord.id.in_(ids), WorkflowRecord.owner == self.owner)
                )
            )
        return claimed

    async def with_pending_events(self) -> list[int]:
        """Executions (even finished ones) whose events admin has not acknowledged yet: ours, and those
        whose owner's lease ran out, which we take over (`claim` skips finished executions, and a
        process can die between finishing an execution and delivering its events); our leases renewed."""
        now = time.time()
        ours_or_orphaned = or_(WorkflowRecord.owner == self.owner, WorkflowRecord.lease_until < now)
        async with self.db.session() as session:
            ids = list(
                await session.scalars(
                    select(OutboxEvent.workflow_id)
                    .join(WorkflowRecord, WorkflowRecord.id == OutboxEvent.workflow_id)
                    .where(ours_or_orphaned)
                    .distinct()
                )
            )
            if not ids:
                return []
            await session.execute(
                update(WorkflowRecord)
                .where(WorkflowRecord.id.in_(ids), ours_or_orphaned)
                .values(owner=self.owner, lease_until=now + self.lease_seconds)
            )
            return list(
                await session.scalars(
                    select(WorkflowRecord.id).where(WorkflowRecord.id.in_(ids), WorkflowRecord.owner == self.owner)
                )
            )

    async def counts(self) -> tuple[int, int]:
        async with self.db.session() as session:
            active = len(
                list(await session.scalars(select(WorkflowRecord.id).where(WorkflowRecord.terminal.is_(False))))
            )
            total = len(list(await session.scalars(select(WorkflowRecord.id))))
        return active, total
