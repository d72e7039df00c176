"""Queries on projects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import Filter, Page, apply_filters, apply_sort
from admin.models import Project
from flyteidl_py.admin import common_pb2, project_pb2


async def find(session: AsyncSession, identifier: str) -> Project | None:
    project: Project | None = await session.scalar(select(Project).where(Project.identifier == identifier))
    return project


async def exists(session: AsyncSession, identifier: str) -> bool:
    return await session.scalar(select(Project.id).where(Project.identifier == identifier)) is not None


async def existing(session: AsyncSession, identifiers: Sequence[str]) -> set[str]:
    """Which of these project identifiers are registered."""
    return set(await session.scalars(select(Project.identifier).where(Project.identifier.in_(identifiers))))


def add(session: AsyncSession, row: Project) -> None:
    session.add(row)


async def list_page(
    session: AsyncSession, filters: Sequence[Filter], sort: common_pb2.Sort | None, window: Page
) -> list[Project]:
    """Archived projects are left out unless a filter asks for them; by identifier unless sorted."""
    query = apply_filters(select(Project), filters, "project")
    if not filters:
        query = query.where(Project.state != project_pb2.Project.ARCHIVED)
    if sort is not None and sort.key:
        query = apply_sort(query, sort, Project)
    else:
        query = query.order_by(Project.identifier.asc())
    return list(await session.scalars(window.apply(query)))


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Project)) or 0)
