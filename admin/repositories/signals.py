"""Queries on signals, keyed by their execution and signal id."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import ListRequest
from admin.models import Signal
from flyteidl_py.core import identifier_pb2


def _of_execution(execution: identifier_pb2.WorkflowExecutionIdentifier) -> tuple[ColumnElement[bool], ...]:
    """The conditions that select one execution's signals."""
    return (
        Signal.execution_project == execution.project,
        Signal.execution_domain == execution.domain,
        Signal.execution_name == execution.name,
    )


async def find(session: AsyncSession, ident: identifier_pb2.SignalIdentifier) -> Signal | None:
    signal: Signal | None = await session.scalar(
        select(Signal).where(*_of_execution(ident.execution_id), Signal.signal_id == ident.signal_id)
    )
    return signal


def add(session: AsyncSession, row: Signal) -> None:
    session.add(row)


async def list_page(
    session: AsyncSession, execution: identifier_pb2.WorkflowExecutionIdentifier, listing: ListRequest
) -> list[Signal]:
    query = select(Signal).where(*_of_execution(execution))
    query = listing.narrow(query, "signal", Signal)
    return list(await session.scalars(listing.window.apply(query)))
