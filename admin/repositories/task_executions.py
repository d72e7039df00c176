"""Queries on task executions (attempts), found through their node execution's primary key."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import ListRequest
from admin.models import Execution, NodeExecution, TaskExecution
from admin.repositories import node_executions
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import NotFound

# The node execution's key, the task's (project, domain, name, version) and the retry attempt.
TaskKey = tuple[str, str, str, str, str, str, str, str, int]


def key_of(node: identifier_pb2.NodeExecutionIdentifier, task: identifier_pb2.Identifier, attempt: int) -> TaskKey:
    return (*node_executions.key_of(node), task.project, task.domain, task.name, task.version, attempt)


def stored_key(row: TaskExecution) -> TaskKey:
    return (
        row.execution_project,
        row.execution_domain,
        row.execution_name,
        row.node_id,
        row.project,
        row.domain,
        row.name,
        row.version,
        row.retry_attempt,
    )


async def find(session: AsyncSession, ident: identifier_pb2.TaskExecutionIdentifier) -> TaskExecution | None:
    node = ident.node_execution_id
    # Through the node's id (indexed), not the task's: one task may have run in thousands of nodes.
    node_pk = (
        select(NodeExecution.id)
        .join(Execution, NodeExecution.execution_id == Execution.id)
        .where(
            Execution.execution_project == node.execution_id.project,
            Execution.execution_domain == node.execution_id.domain,
            Execution.execution_name == node.execution_id.name,
            NodeExecution.node_id == node.node_id,
        )
        .scalar_subquery()
    )
    row: TaskExecution | None = await session.scalar(
        select(TaskExecution).where(
            TaskExecution.node_execution_id == node_pk,
            TaskExecution.retry_attempt == ident.retry_attempt,
            TaskExecution.project == ident.task_id.project,
            TaskExecution.domain == ident.task_id.domain,
            TaskExecution.name == ident.task_id.name,
            TaskExecution.version == ident.task_id.version,
        )
    )
    return row


async def get(session: AsyncSession, ident: identifier_pb2.TaskExecutionIdentifier) -> TaskExecution:
    row = await find(session, ident)
    if row is None:
        raise NotFound(missing_message(ident), field="id")
    return row


def missing_message(ident: identifier_pb2.TaskExecutionIdentifier) -> str:
    return f"task execution attempt {ident.retry_attempt} of node {ident.node_execution_id.node_id} not found"


# Built once: every batch of events asks it.
_OF_NODES = select(TaskExecution).where(TaskExecution.node_execution_id.in_(bindparam("node_pks", expanding=True)))


async def of_nodes(session: AsyncSession, node_pks: Sequence[int]) -> list[TaskExecution]:
    """Every task execution of these node executions, in one query."""
    return list(await session.scalars(_OF_NODES, {"node_pks": list(node_pks)}))


async def attempt(session: AsyncSession, node_pk: int, retry_attempt: int) -> TaskExecution | None:
    """One task execution of the node with this retry attempt (whichever task ran it)."""
    row: TaskExecution | None = await session.scalar(
        select(TaskExecution)
        .where(TaskExecution.node_execution_id == node_pk, TaskExecution.retry_attempt == retry_attempt)
        .limit(1)
    )
    return row


def add(session: AsyncSession, row: TaskExecution) -> None:
    session.add(row)


async def list_page(session: AsyncSession, node_pk: int, listing: ListRequest) -> list[TaskExecution]:
    """The node's task executions, by retry attempt unless sorted."""
    query = select(TaskExecution).where(TaskExecution.node_execution_id == node_pk)
    query = listing.narrow(query, "task_execution", TaskExecution)
    if not listing.sorted:
        query = query.order_by(TaskExecution.retry_attempt)
    return list(await session.scalars(listing.window.apply(query)))
