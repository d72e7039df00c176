"""Queries on matchable attributes (resources), each stored for one scope and resource type."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import Resource

PRIORITY_PROJECT = 5
PRIORITY_PROJECT_DOMAIN = 10
PRIORITY_WORKFLOW = 100
PRIORITY_LAUNCH_PLAN = 1000


@dataclass(frozen=True)
class Scope:
    """Where attributes apply: a project, a project-domain, a workflow or a launch plan of one."""

    project: str
    domain: str = ""
    workflow: str = ""
    launch_plan: str = ""

    @property
    def priority(self) -> int:
        if self.launch_plan:
            return PRIORITY_LAUNCH_PLAN
        if self.workflow:
            return PRIORITY_WORKFLOW
        return PRIORITY_PROJECT_DOMAIN if self.domain else PRIORITY_PROJECT


def _at(scope: Scope, type_name: str) -> Select[Resource]:
    return select(Resource).where(
        Resource.project == scope.project,
        Resource.domain == scope.domain,
        Resource.workflow == scope.workflow,
        Resource.launch_plan == scope.launch_plan,
        Resource.resource_type == type_name,
    )


async def find(session: AsyncSession, scope: Scope, type_name: str) -> Resource | None:
    """The attributes stored for exactly this scope."""
    row: Resource | None = await session.scalar(_at(scope, type_name))
    return row


# Built once: every execution made resolves several attribute types against its scope.
_MOST_SPECIFIC = (
    select(Resource)
    .where(
        Resource.resource_type == bindparam("type_name"),
        Resource.project.in_(bindparam("projects", expanding=True)),
        Resource.domain.in_(bindparam("domains", expanding=True)),
        Resource.workflow.in_(bindparam("workflows", expanding=True)),
        Resource.launch_plan.in_(bindparam("launch_plans", expanding=True)),
    )
    .order_by(Resource.priority.desc())
    .limit(1)
)


async def most_specific(session: AsyncSession, scope: Scope, type_name: str) -> Resource | None:
    """The stored attributes of the highest priority among those that apply to the scope."""
    row: Resource | None = await session.scalar(
        _MOST_SPECIFIC,
        {
            "type_name": type_name,
            "projects": ["", scope.project],
            "domains": ["", scope.domain] if scope.domain else [""],
            "workflows": ["", scope.workflow] if scope.workflow else [""],
            "launch_plans": ["", scope.launch_plan] if scope.launch_plan else [""],
        },
    )
    return row


async def of_type(session: AsyncSession, type_name: str) -> list[Resource]:
    return list(await session.scalars(select(Resource).where(Resource.resource_type == type_name)))


def add(session: AsyncSession, row: Resource) -> None:
    session.add(row)


async def delete(session: AsyncSession, row: Resource) -> None:
    await session.delete(row)
