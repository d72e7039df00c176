"""Queries on workflow executions and their tags."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import ListRequest
from admin.models import Execution, ExecutionTag, LaunchPlan
from flyteidl_py.admin import common_pb2, execution_pb2
from flyteidl_py.core import identifier_pb2
from flyteplane.database import Database
from flyteplane.errors import NotFound

# (project, domain, name): an execution's key.
ExecKey = tuple[str, str, str]


def key_of(ident: identifier_pb2.WorkflowExecutionIdentifier) -> ExecKey:
    return (ident.project, ident.domain, ident.name)


def stored_key(row: Execution) -> ExecKey:
    return (row.execution_project, row.execution_domain, row.execution_name)


def _text(ident: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    return f"{ident.project}/{ident.domain}/{ident.name}"


# Built once: a statement made per call (each `column == value` an expression, then its cache
# key) costs more CPU than SQLite takes to answer it, and admin looks executions up on every poll.
_NAMED = (
    Execution.execution_project == bindparam("project"),
    Execution.execution_domain == bindparam("domain"),
    Execution.execution_name == bindparam("name"),
)
_BY_NAME = select(Execution).where(*_NAMED)
_BY_NAME_FOR_UPDATE = _BY_NAME.with_for_update()
_ID_BY_NAME = select(Execution.id).where(*_NAMED)
# What GetExecution shows of a row, read without the ORM (it runs on every poll of every client).
_SHOWN_BY_NAME = select(
    Execution.execution_project,
    Execution.execution_domain,
    Execution.execution_name,
    Execution.org,
    Execution.phase,
    Execution.spec,
    Execution.closure,
).where(*_NAMED)


def _named(ident: identifier_pb2.WorkflowExecutionIdentifier) -> dict[str, str]:
    return {"project": ident.project, "domain": ident.domain, "name": ident.name}


async def find(
    session: AsyncSession, ident: identifier_pb2.WorkflowExecutionIdentifier, *, for_update: bool = False
) -> Execution | None:
    """The execution row; `for_update` locks it until the transaction ends (PostgreSQL; SQLite serializes
    writers anyway), for a writer that reads the closure, changes it and writes it back."""
    row: Execution | None = await session.scalar(_BY_NAME_FOR_UPDATE if for_update else _BY_NAME, _named(ident))
    return row


async def get(
    session: AsyncSession, ident: identifier_pb2.WorkflowExecutionIdentifier, *, for_update: bool = False
) -> Execution:
    row = await find(session, ident, for_update=for_update)
    if row is None:
        raise NotFound(f"missing entity of type execution with identifier {_text(ident)}", field="id")
    return row


async def shown(database: Database, ident: identifier_pb2.WorkflowExecutionIdentifier) -> Row[Any]:
    """The execution's columns an `Execution` message is made of (`to_execution` reads them as it reads a row's),
    in a read of its own: no ORM session, identity map nor object loading (about a third of a GetExecution's CPU)."""
    rows = await database.rows(_SHOWN_BY_NAME, _named(ident))
    if not rows:
        raise NotFound(f"missing entity of type execution with identifier {_text(ident)}", field="id")
    return rows[0]


async def name_taken(session: AsyncSession, ident: identifier_pb2.WorkflowExecutionIdentifier) -> bool:
    taken = await session.scalar(_ID_BY_NAME, _named(ident))
    return taken is not None


@functools.lru_cache(maxsize=64)
def _many(count: int, for_update: bool) -> Select[Execution]:
    """The statement of `find_many` for `count` keys, built once per count (every event batch runs one)."""
    query = (
        select(Execution)
        .where(
            or_(
                *(
                    and_(
                        Execution.execution_project == bindparam(f"p{i}"),
                        Execution.execution_domain == bindparam(f"d{i}"),
                        Execution.execution_name == bindparam(f"n{i}"),
                    )
                    for i in range(count)
                )
            )
        )
        .order_by(Execution.id)
    )
    return query.with_for_update() if for_update else query


async def find_many(session: AsyncSession, keys: Sequence[ExecKey], *, for_update: bool = False) -> list[Execution]:
    """The executions among these keys that exist, in one query (locked in id order with `for_update`)."""
    if not keys:
        return []
    values = {f"{part}{i}": value for i, key in enumerate(keys) for part, value in zip("pdn", key, strict=True)}
    return list(await session.scalars(_many(len(keys), for_update), values))


# Phases an execution leaves for good; every other one counts against a launch plan's concurrency.
TERMINAL_PHASES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


async def lock_launch_plan_name(session: AsyncSession, project: str, domain: str, name: str) -> None:
    """Serializes the transactions that start executions of one launch plan name until this one ends.

    It writes (without changing it) the name's first version, which every version's executions
    share: a row lock on PostgreSQL, the database's write lock on SQLite. A count taken after it
    sees every execution committed before, and none is inserted meanwhile.
    """
    first = (
        select(func.min(LaunchPlan.id))
        .where(LaunchPlan.project == project, LaunchPlan.domain == domain, LaunchPlan.name == name)
        .scalar_subquery()
    )
    await session.execute(
        update(LaunchPlan)
        .where(LaunchPlan.id == first)
        .values(state=LaunchPlan.state, updated_at=LaunchPlan.updated_at)
    )


async def count_active(session: AsyncSession, project: str, domain: str, name: str) -> int:
    """Executions of any version of the launch plan name that are not terminal yet.

    Flyte counts only QUEUED and RUNNING ones; an execution admin has just created is UNDEFINED
    until the engine reports it, and counting it too is what keeps two quick launches from both
    fitting under the limit.
    """
    count = await session.scalar(
        select(func.count(Execution.id))
        .join(LaunchPlan, Execution.launch_plan_id == LaunchPlan.id)
        .where(
            LaunchPlan.project == project,
            LaunchPlan.domain == domain,
            LaunchPlan.name == name,
            Execution.phase.not_in(TERMINAL_PHASES),
        )
    )
    return int(count or 0)


async def waiting_for_eager_node(session: AsyncSession, execution_pk: int) -> list[Execution]:
    """Executions launched from this execution's eager task that wait for admin to hear of its node."""
    return list(
        await session.scalars(
            select(Execution)
            .where(Execution.eager_parent_id == execution_pk, Execution.parent_node_execution_id.is_(None))
            .order_by(Execution.id)
        )
    )


async def create(session: AsyncSession, row: Execution, tags: Iterable[tuple[str, str]]) -> None:
    """Inserts the execution, then its tags (which need its id)."""
    session.add(row)
    await session.flush()
    session.add_all(ExecutionTag(execution_id=row.id, key=k, value=v) for k, v in tags)


async def list_page(
    session: AsyncSession, ident: common_pb2.NamedEntityIdentifier, listing: ListRequest
) -> list[Execution]:
    """Executions of a project-domain (and name); only active ones unless a filter asks about state."""
    query = select(Execution).where(
        Execution.execution_project == ident.project, Execution.execution_domain == ident.domain
    )
    if ident.name:
        query = query.where(Execution.execution_name == ident.name)
    if not any(f.entity == "execution" and f.field == "state" for f in listing.filters):
        query = query.where(Execution.state == execution_pb2.EXECUTION_ACTIVE)
    query = listing.narrow(query, "execution", Execution)
    return list(await session.scalars(listing.window.apply(query)))
