"""Queries on registered entities: task, workflow and launch-plan versions, their named-entity metadata
and description entities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import Filter, ListRequest, Page, apply_filters, apply_sort
from admin.models import DescriptionEntity, LaunchPlan, NamedEntityMetadata, Task, Workflow
from flyteidl_py.admin import common_pb2, description_entity_pb2, launch_plan_pb2
from flyteidl_py.core import identifier_pb2
from flyteplane.database import Database
from flyteplane.errors import InvalidArgument

Versioned = TypeVar("Versioned", bound=Task | Workflow | LaunchPlan)
VersionedModel = type[Task] | type[Workflow] | type[LaunchPlan]
VersionNamed = TypeVar("VersionNamed", bound=Task | Workflow | LaunchPlan | DescriptionEntity)


class VersionKey(TypedDict):
    project: str
    domain: str
    name: str
    version: str
    org: str


def version_key(ident: identifier_pb2.Identifier) -> VersionKey:
    """The columns that name a registered version (or its description), from its identifier."""
    return VersionKey(project=ident.project, domain=ident.domain, name=ident.name, version=ident.version, org=ident.org)


def _same_version(model: type[VersionNamed], ident: identifier_pb2.Identifier) -> tuple[ColumnElement[bool], ...]:
    """The conditions that select the rows of `model` for the version `ident` names (project, domain, name, version)."""
    return (
        model.project == ident.project,
        model.domain == ident.domain,
        model.name == ident.name,
        model.version == ident.version,
    )


# Built once per model: every CreateExecution looks its launch plan up, every registration its entities.
_VERSION_OF: dict[type[Any], Select[Any]] = {
    model: select(model).where(
        model.project == bindparam("project"),
        model.domain == bindparam("domain"),
        model.name == bindparam("name"),
        model.version == bindparam("version"),
    )
    for model in (Task, Workflow, LaunchPlan)
}


async def find(session: AsyncSession, model: type[Versioned], ident: identifier_pb2.Identifier) -> Versioned | None:
    """The version this identifier names (project, domain, name, version)."""
    params = {"project": ident.project, "domain": ident.domain, "name": ident.name, "version": ident.version}
    row: Versioned | None = await session.scalar(_VERSION_OF[model], params)
    return row


async def workflow(session: AsyncSession, pk: int) -> Workflow | None:
    return await session.get(Workflow, pk)


def add(session: AsyncSession, row: Task | Workflow | LaunchPlan) -> None:
    session.add(row)


async def active_launch_plan(session: AsyncSession, project: str, domain: str, name: str) -> LaunchPlan | None:
    row: LaunchPlan | None = await session.scalar(
        select(LaunchPlan).where(
            LaunchPlan.project == project,
            LaunchPlan.domain == domain,
            LaunchPlan.name == name,
            LaunchPlan.state == launch_plan_pb2.ACTIVE,
        )
    )
    return row


async def deactivate_other_versions(session: AsyncSession, target: LaunchPlan) -> None:
    """Every other active version of the launch plan's name becomes inactive (one active version per name)."""
    others = await session.scalars(
        select(LaunchPlan).where(
            LaunchPlan.project == target.project,
            LaunchPlan.domain == target.domain,
            LaunchPlan.name == target.name,
            LaunchPlan.state == launch_plan_pb2.ACTIVE,
            LaunchPlan.id != target.id,
        )
    )
    for other in others:
        other.state = launch_plan_pb2.INACTIVE


async def name_exists(session: AsyncSession, model: VersionedModel, ident: common_pb2.NamedEntityIdentifier) -> bool:
    """Whether at least one version is registered under the name."""
    found = await session.scalar(
        select(model.id)
        .where(model.project == ident.project, model.domain == ident.domain, model.name == ident.name)
        .limit(1)
    )
    return found is not None


async def list_versions(
    session: AsyncSession,
    model: VersionedModel,
    entity: str,
    ident: common_pb2.NamedEntityIdentifier,
    listing: ListRequest,
) -> list[Any]:
    """Versions in a project-domain (of one name when the identifier names one)."""
    query = select(model).where(model.project == ident.project, model.domain == ident.domain)
    if ident.name:
        query = query.where(model.name == ident.name)
    query = listing.narrow(query, entity, model)
    return list(await session.scalars(listing.window.apply(query)))


async def list_active_launch_plans(
    session: AsyncSession, project: str, domain: str, sort: common_pb2.Sort | None, window: Page
) -> list[LaunchPlan]:
    query = select(LaunchPlan).where(
        LaunchPlan.project == project,
        LaunchPlan.domain == domain,
        LaunchPlan.state == launch_plan_pb2.ACTIVE,
    )
    query = apply_sort(query, sort, LaunchPlan)
    return list(await session.scalars(window.apply(query)))


async def list_names(
    session: AsyncSession,
    model: VersionedModel,
    entity: str,
    project: str,
    domain: str,
    filters: Sequence[Filter],
    sort: common_pb2.Sort | None,
    window: Page,
) -> list[tuple[str, str, str]]:
    """Distinct (project, domain, name) with at least one version; by name unless sorted."""
    query: Select[*tuple[Any, ...]] = select(model.project, model.domain, model.name).where(
        model.project == project, model.domain == domain
    )
    query = apply_filters(query, filters, entity).group_by(model.project, model.domain, model.name)
    if sort is not None and sort.key:
        if sort.key not in ("name", "project", "domain"):
            raise InvalidArgument(f"invalid sort key '{sort.key}'", field="sort_by.key")
        column = getattr(model, sort.key)
        asc = sort.direction == common_pb2.Sort.ASCENDING
        query = query.order_by(column.asc() if asc else column.desc())
    else:
        query = query.order_by(model.name.asc())
    return [(p, d, n) for p, d, n in await session.execute(window.apply(query))]


# ---- named-entity metadata --------------------------------------------------------------------


async def named_entity_metadata(
    session: AsyncSession, resource_type: int, project: str, domain: str, name: str
) -> NamedEntityMetadata | None:
    meta: NamedEntityMetadata | None = await session.scalar(
        select(NamedEntityMetadata).where(
            NamedEntityMetadata.resource_type == resource_type,
            NamedEntityMetadata.project == project,
            NamedEntityMetadata.domain == domain,
            NamedEntityMetadata.name == name,
        )
    )
    return meta


def add_named_entity_metadata(session: AsyncSession, row: NamedEntityMetadata) -> None:
    session.add(row)


async def ensure_named_entity(
    session: AsyncSession, resource_type: int, ident: identifier_pb2.Identifier, state: int = 0
) -> None:
    """The name has a metadata row; `state`, when given, is its state."""
    row = await named_entity_metadata(session, resource_type, ident.project, ident.domain, ident.name)
    if row is None:
        session.add(
            NamedEntityMetadata(
                resource_type=resource_type,
                project=ident.project,
                domain=ident.domain,
                name=ident.name,
                org=ident.org,
                state=state,
            )
        )
    elif state and row.state != state:
        row.state = state


def _compare(column: Any, function: str, value: str) -> Any:
    typed: Any = int(value) if value.lstrip("-").isdigit() else value
    ops = {
        "eq": lambda: column == typed,
        "ne": lambda: column != typed,
        "gt": lambda: column > typed,
        "gte": lambda: column >= typed,
        "lt": lambda: column < typed,
        "lte": lambda: column <= typed,
        "contains": lambda: column.contains(value),
        "not_like": lambda: column.not_like(value),
        "value_in": lambda: column.in_(value.split(";")),
        "value_not_in": lambda: column.not_in(value.split(";")),
    }
    if function not in ops:
        raise InvalidArgument(f"unrecognized filter function: {function}", field="filters")
    return ops[function]()


async def list_named_entities(
    session: AsyncSession,
    model: VersionedModel,
    resource_type: int,
    project: str,
    domain: str,
    filters: Sequence[tuple[str, str, str]] | None,
    descending: bool,
    window: Page,
) -> list[tuple[str, NamedEntityMetadata | None]]:
    """Names with at least one version, each with its metadata row if it has one.

    `filters` are (column, function, value) on `name`, `state` and `description`; None (no filter
    given) leaves out the generated `.flytegen` names of single-task executions.
    """
    names = select(model.name).where(model.project == project, model.domain == domain).group_by(model.name).subquery()
    meta = NamedEntityMetadata
    query = select(names.c.name, meta).outerjoin(
        meta,
        and_(
            meta.resource_type == resource_type,
            meta.project == project,
            meta.domain == domain,
            meta.name == names.c.name,
        ),
    )
    state = func.coalesce(meta.state, 0)
    if filters is None:
        query = query.where(names.c.name.not_like(".flytegen%"))
    for column_name, function, value in filters or ():
        column = (
            state
            if column_name == "state"
            else (names.c.name if column_name == "name" else func.coalesce(meta.description, ""))
        )
        query = query.where(_compare(column, function, value))
    query = query.order_by(names.c.name.desc() if descending else names.c.name.asc())
    return [(n, m) for n, m in await session.execute(window.apply(query))]


# ---- description entities ---------------------------------------------------------------------


def _of_description(ident: identifier_pb2.Identifier) -> tuple[ColumnElement[bool], ...]:
    """The conditions that select the description of the entity version `ident` names."""
    return (DescriptionEntity.resource_type == ident.resource_type, *_same_version(DescriptionEntity, ident))


async def description(session: AsyncSession, ident: identifier_pb2.Identifier) -> DescriptionEntity | None:
    row: DescriptionEntity | None = await session.scalar(select(DescriptionEntity).where(*_of_description(ident)))
    return row


async def save_description(
    session: AsyncSession,
    ident: identifier_pb2.Identifier,
    entity: description_entity_pb2.DescriptionEntity,
) -> None:
    """Stores the entity's description once per version (a later one for the same version is ignored)."""
    exists = await session.scalar(select(DescriptionEntity.id).where(*_of_description(ident)))
    if exists is None:
        body = description_entity_pb2.DescriptionEntity()
        body.CopyFrom(entity)
        body.ClearField("id")
        session.add(
            DescriptionEntity(
                resource_type=ident.resource_type,
                **version_key(ident),
                short_description=entity.short_description,
                body=body.SerializeToString(),
            )
        )


async def list_descriptions(
    session: AsyncSession,
    resource_type: int,
    ident: common_pb2.NamedEntityIdentifier,
    sort: common_pb2.Sort | None,
    window: Page,
) -> list[DescriptionEntity]:
    query = select(DescriptionEntity).where(
        DescriptionEntity.resource_type == resource_type,
        DescriptionEntity.project == ident.project,
        DescriptionEntity.domain == ident.domain,
    )
    if ident.name:
        query = query.where(DescriptionEntity.name == ident.name)
    query = apply_sort(query, sort, DescriptionEntity)
    return list(await session.scalars(window.apply(query)))


# Built once: the scheduler asks for this about twice a second.
_ACTIVE_SCHEDULE_VERSIONS = (
    select(LaunchPlan.id, LaunchPlan.updated_at)
    .where(LaunchPlan.state == launch_plan_pb2.ACTIVE, LaunchPlan.schedule_type != "NONE")
    .order_by(LaunchPlan.id)
)


async def active_schedule_versions(database: Database) -> list[tuple[int, datetime]]:
    """(id, updated_at) of every active launch plan version with a schedule: what the schedule feed's revision names.
    Read on a connection of its own, without the ORM: an unchanged set needs nothing more."""
    return [(row.id, row.updated_at) for row in await database.rows(_ACTIVE_SCHEDULE_VERSIONS)]


async def active_scheduled_launch_plans(session: AsyncSession) -> list[LaunchPlan]:
    """Every active launch plan version with a schedule, ordered by identifier."""
    rows = await session.scalars(
        select(LaunchPlan)
        .where(LaunchPlan.state == launch_plan_pb2.ACTIVE, LaunchPlan.schedule_type != "NONE")
        .order_by(LaunchPlan.project, LaunchPlan.domain, LaunchPlan.name, LaunchPlan.version)
    )
    return list(rows)
