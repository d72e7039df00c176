"""Queries on node executions, found through their execution's primary key (indexed)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import ListRequest
from admin.models import Execution, NodeExecution
from admin.repositories import executions
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import NotFound

# (project, domain, execution name, node id): a node execution's key.
NodeKey = tuple[str, str, str, str]


def key_of(ident: identifier_pb2.NodeExecutionIdentifier) -> NodeKey:
    return (*executions.key_of(ident.execution_id), ident.node_id)


def stored_key(row: NodeExecution) -> NodeKey:
    return (row.execution_project, row.execution_domain, row.execution_name, row.node_id)


async def find(session: AsyncSession, execution_pk: int, node_id: str) -> NodeExecution | None:
    row: NodeExecution | None = await session.scalar(
        select(NodeExecution).where(NodeExecution.execution_id == execution_pk, NodeExecution.node_id == node_id)
    )
    return row


async def get(session: AsyncSession, ident: identifier_pb2.NodeExecutionIdentifier) -> NodeExecution:
    """The node execution; NOT_FOUND when it or its execution does not exist."""
    execution = await executions.get(session, ident.execution_id)
    row = await find(session, execution.id, ident.node_id)
    if row is None:
        raise NotFound(f"node execution {ident.node_id} of {ident.execution_id.name} not found", field="id.node_id")
    return row


async def find_pk(session: AsyncSession, execution_pk: int, node_id: str) -> int | None:
    pk: int | None = await session.scalar(
        select(NodeExecution.id).where(NodeExecution.execution_id == execution_pk, NodeExecution.node_id == node_id)
    )
    return pk


# Built once: every batch of node events looks its nodes up.
_MANY = select(NodeExecution).where(
    NodeExecution.execution_id == bindparam("execution_pk"),
    NodeExecution.node_id.in_(bindparam("node_ids", expanding=True)),
)


async def find_many(session: AsyncSession, execution_pk: int, node_ids: Sequence[str]) -> list[NodeExecution]:
    """The node executions among these node ids of one execution that exist, in one query."""
    return list(await session.scalars(_MANY, {"execution_pk": execution_pk, "node_ids": list(node_ids)}))


async def top_level(session: AsyncSession, execution_pk: int) -> list[NodeExecution]:
    """The execution's nodes that have no parent node, in the order they were recorded."""
    return list(
        await session.scalars(
            select(NodeExecution)
            .where(NodeExecution.execution_id == execution_pk, NodeExecution.parent_id.is_(None))
            .order_by(NodeExecution.id)
        )
    )


# Phases a node leaves for good; an eager task's node is looked for among the others.
_FINISHED = ("SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED")


async def unfinished(session: AsyncSession, execution_pk: int) -> list[NodeExecution]:
    """The execution's nodes that have not finished (of every level), in recorded order."""
    return list(
        await session.scalars(
            select(NodeExecution)
            .where(NodeExecution.execution_id == execution_pk, NodeExecution.phase.not_in(_FINISHED))
            .order_by(NodeExecution.id)
        )
    )


async def children_with_executions(session: AsyncSession, parent_pk: int) -> list[tuple[NodeExecution, Execution]]:
    """The child nodes of a node that stand for executions (an eager node's), each with its execution."""
    rows = await session.execute(
        select(NodeExecution, Execution)
        .join(Execution, NodeExecution.child_execution_id == Execution.id)
        .where(NodeExecution.parent_id == parent_pk)
        .order_by(NodeExecution.id)
    )
    return [(node, execution) for node, execution in rows]


def add(session: AsyncSession, row: NodeExecution) -> None:
    session.add(row)


async def list_page(
    session: AsyncSession, execution_pk: int, parent_pk: int | None, listing: ListRequest
) -> list[NodeExecution]:
    """The children of a parent node, or (no parent) the top-level nodes; in recorded order unless sorted."""
    query = select(NodeExecution).where(NodeExecution.execution_id == execution_pk)
    if parent_pk is not None:
        query = query.where(NodeExecution.parent_id == parent_pk)
    else:
        # Top-level nodes only: nested nodes must not leak into FlyteRemote's node mapping.
        query = query.where(NodeExecution.parent_id.is_(None), NodeExecution.parent_task_execution_id.is_(None))
    query = listing.narrow(query, "node_execution", NodeExecution)
    if not listing.sorted:
        query = query.order_by(NodeExecution.id)
    return list(await session.scalars(listing.window.apply(query)))


async def list_for_task(session: AsyncSession, task_execution_pk: int, listing: ListRequest) -> list[NodeExecution]:
    """The nodes a task execution launched (a dynamic task's sub-nodes)."""
    query = select(NodeExecution).where(NodeExecution.parent_task_execution_id == task_execution_pk)
    query = listing.narrow(query, "node_execution", NodeExecution)
    return list(await session.scalars(listing.window.apply(query)))
