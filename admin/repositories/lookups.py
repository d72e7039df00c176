"""The execution, node and task rows one event transaction reads or creates, read up front in a few queries.

Event ingestion is admin's hot path: a batch of events (propeller's EventSinkService) names rows that
`prefetch` reads in a few queries, so that each event then costs dictionary hits, not round trips.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import Execution, NodeExecution, TaskExecution
from admin.repositories import executions, node_executions, task_executions
from admin.repositories.executions import ExecKey
from admin.repositories.node_executions import NodeKey
from admin.repositories.task_executions import TaskKey
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.events.v1 import events_pb2

# Keys per IN / OR query: well below every database's limit on bound parameters.
_PREFETCH_CHUNK = 400


def _named_keys(events: Sequence[events_pb2.Event]) -> tuple[set[ExecKey], set[NodeKey]]:
    """The executions and nodes a batch of events names (each node's execution included)."""
    exec_keys: set[ExecKey] = set()
    node_keys: set[NodeKey] = set()
    for item in events:
        kind = item.WhichOneof("kind")
        if kind == "workflow":
            exec_keys.add(executions.key_of(item.workflow.event.execution_id))
        elif kind == "node":
            node_keys.add(node_executions.key_of(item.node.event.id))
            parent = item.node.event.parent_node_metadata.node_id
            if parent:
                node_keys.add((*executions.key_of(item.node.event.id.execution_id), parent))
        elif kind == "task":
            node_keys.add(node_executions.key_of(item.task.event.parent_node_execution_id))
    exec_keys |= {key[:3] for key in node_keys}
    return exec_keys, node_keys


class Lookups:
    """The rows of one transaction by their identifiers; a row known to be absent is not asked for again.

    `prefetch` reads every row a batch of events names; anything not prefetched is read on demand
    (and remembered).
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._complete_nodes: set[NodeKey] = set()
        self._executions: dict[ExecKey, Execution | None] = {}
        self._nodes: dict[NodeKey, NodeExecution | None] = {}
        self._tasks: dict[TaskKey, TaskExecution | None] = {}

    async def prefetch(self, events: Sequence[events_pb2.Event]) -> None:
        exec_keys, node_keys = _named_keys(events)
        wanted = [key for key in exec_keys if key not in self._executions]
        for start in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[start : start + _PREFETCH_CHUNK]
            for row in await executions.find_many(self.session, chunk, for_update=True):
                self._executions[executions.stored_key(row)] = row
            for key in chunk:
                self._executions.setdefault(key, None)
        by_execution: dict[int, tuple[ExecKey, list[str]]] = {}
        for node_key in node_keys:
            execution = self._executions.get(node_key[:3])
            if execution is not None and node_key not in self._nodes:
                by_execution.setdefault(execution.id, (node_key[:3], []))[1].append(node_key[3])
        loaded: list[NodeExecution] = []
        for execution_pk, (execution_key, node_ids) in by_execution.items():
            for start in range(0, len(node_ids), _PREFETCH_CHUNK):
                chunk_ids = node_ids[start : start + _PREFETCH_CHUNK]
                found = await node_executions.find_many(self.session, execution_pk, chunk_ids)
                loaded.extend(found)
                known = {row.node_id: row for row in found}
                for node_id in chunk_ids:
                    self._nodes[(*execution_key, node_id)] = known.get(node_id)
        node_pks = [row.id for row in loaded]
        for start in range(0, len(node_pks), _PREFETCH_CHUNK):
            for task in await task_executions.of_nodes(self.session, node_pks[start : start + _PREFETCH_CHUNK]):
                self._tasks[task_executions.stored_key(task)] = task
        # Every task execution of a prefetched node is known now: the others do not exist.
        self._complete_nodes |= {node_executions.stored_key(row) for row in loaded}

    async def execution(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> Execution:
        """The execution; NOT_FOUND as every reader answers when it does not exist."""
        key = executions.key_of(ident)
        if key in self._executions:
            row = self._executions[key]
        else:
            row = self._executions[key] = await executions.find(self.session, ident, for_update=True)
        if row is None:
            return await executions.get(self.session, ident)
        return row

    async def node(self, execution: Execution, key: NodeKey) -> NodeExecution | None:
        if key not in self._nodes:
            self._nodes[key] = await node_executions.find(self.session, execution.id, key[3])
        return self._nodes[key]

    def add_node(self, key: NodeKey, row: NodeExecution) -> None:
        node_executions.add(self.session, row)
        self._nodes[key] = row
        self._complete_nodes.add(key)  # a new node has no task executions yet

    async def task(self, ident: identifier_pb2.TaskExecutionIdentifier) -> TaskExecution | None:
        key = task_executions.key_of(ident.node_execution_id, ident.task_id, ident.retry_attempt)
        if key not in self._tasks:
            if key[:4] in self._complete_nodes:
                return None
            self._tasks[key] = await task_executions.find(self.session, ident)
        return self._tasks[key]

    def add_task(self, key: TaskKey, row: TaskExecution) -> None:
        task_executions.add(self.session, row)
        self._tasks[key] = row

    async def flush(self) -> None:
        """Gives the rows created so far their ids."""
        await self.session.flush()
