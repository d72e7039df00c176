"""Queries on projects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import ListRequest
from admin.models import Project
from flyteidl_py.admin import project_pb2

# Built once (executions are made and their attributes resolved against a project on every call).
_BY_ID = select(Project).where(Project.identifier == bindparam("identifier"))
_ID_BY_ID = select(Project.id).where(Project.identifier == bindparam("identifier"))


async def find(session: AsyncSession, identifier: str) -> Project | None:
    project: Project | None = await session.scalar(_BY_ID, {"identifier": identifier})
    return project


async def exists(session: AsyncSession, identifier: str) -> bool:
    return await session.scalar(_ID_BY_ID, {"identifier": identifier}) is not None


async def existing(session: AsyncSession, identifiers: Sequence[str]) -> set[str]:
    """Which of these project identifiers are registered."""
    return set(await session.scalars(select(Project.identifier).where(Project.identifier.in_(identifiers))))


def add(session: AsyncSession, row: Project) -> None:
    session.add(row)


async def list_page(session: AsyncSession, listing: ListRequest) -> list[Project]:
    """Archived projects are left out unless a filter asks for them; by identifier unless sorted."""
    query = listing.narrow(select(Project), "project", Project)
    if not listing.filters:
        query = query.where(Project.state != project_pb2.Project.ARCHIVED)
    if not listing.sorted:
        query = query.order_by(Project.identifier.asc())
    return list(await session.scalars(listing.window.apply(query)))


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Project)) or 0)
