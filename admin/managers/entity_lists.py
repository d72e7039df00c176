"""Listing registered entities: versions of a name, distinct names, named entities and descriptions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import filter_expressions, list_request, page, parse_filters
from admin.managers.context import AdminContext
from admin.managers.ids import check_named_id, check_text, require
from admin.managers.registration import to_launch_plan, to_task, to_workflow
from admin.models import DescriptionEntity, LaunchPlan, NamedEntityMetadata, Task, Workflow
from admin.repositories import entities
from admin.repositories.entities import VersionedModel
from flyteidl_py.admin import (
    common_pb2,
    description_entity_pb2,
    launch_plan_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import InvalidArgument, NotFound

_MODELS: dict[int, tuple[VersionedModel, str]] = {
    identifier_pb2.TASK: (Task, "task"),
    identifier_pb2.WORKFLOW: (Workflow, "workflow"),
    identifier_pb2.LAUNCH_PLAN: (LaunchPlan, "launch_plan"),
}


def _model(resource_type: int, field: str = "resource_type") -> tuple[VersionedModel, str]:
    if resource_type not in _MODELS:
        raise InvalidArgument(f"unsupported resource type {resource_type}", field=field)
    return _MODELS[resource_type]


# The width of a named entity's stored description (Flyte's column).
DESCRIPTION_LIMIT = 300


class EntityLists:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    async def _versions(self, resource_type: int, request: common_pb2.ResourceListRequest) -> tuple[list[Any], str]:
        model, entity = _model(resource_type)
        check_named_id(request.id)
        listing = list_request(request, entity)
        async with self.ctx.db.session() as session:
            rows = await entities.list_versions(session, model, entity, request.id, listing)
        return rows, listing.token_after(rows)

    async def list_tasks(self, request: common_pb2.ResourceListRequest) -> task_pb2.TaskList:
        rows, token = await self._versions(identifier_pb2.TASK, request)
        return task_pb2.TaskList(tasks=[to_task(r) for r in rows], token=token)

    async def list_workflows(self, request: common_pb2.ResourceListRequest) -> workflow_pb2.WorkflowList:
        rows, token = await self._versions(identifier_pb2.WORKFLOW, request)
        return workflow_pb2.WorkflowList(workflows=[to_workflow(r) for r in rows], token=token)

    async def list_launch_plans(self, request: common_pb2.ResourceListRequest) -> launch_plan_pb2.LaunchPlanList:
        rows, token = await self._versions(identifier_pb2.LAUNCH_PLAN, request)
        return launch_plan_pb2.LaunchPlanList(launch_plans=[to_launch_plan(r) for r in rows], token=token)

    async def list_active_launch_plans(
        self, request: launch_plan_pb2.ActiveLaunchPlanListRequest
    ) -> launch_plan_pb2.LaunchPlanList:
        require(request.project, "project")
        require(request.domain, "domain")
        window = page(request.limit, request.token)
        sort = request.sort_by if request.HasField("sort_by") else None
        async with self.ctx.db.session() as session:
            rows = await entities.list_active_launch_plans(session, request.project, request.domain, sort, window)
        return launch_plan_pb2.LaunchPlanList(
            launch_plans=[to_launch_plan(r) for r in rows], token=window.token_after(len(rows))
        )

    async def list_ids(
        self, resource_type: int, request: common_pb2.NamedEntityIdentifierListRequest
    ) -> common_pb2.NamedEntityIdentifierList:
        """Distinct names that have at least one registered version."""
        model, entity = _model(resource_type)
        require(request.project, "project")
        require(request.domain, "domain")
        filters = parse_filters(request.filters, entity)
        window = page(request.limit, request.token)
        sort = request.sort_by if request.HasField("sort_by") else None
        async with self.ctx.db.session() as session:
            rows = await entities.list_names(
                session, model, entity, request.project, request.domain, filters, sort, window
            )
        return common_pb2.NamedEntityIdentifierList(
            entities=[common_pb2.NamedEntityIdentifier(project=p, domain=d, name=n) for p, d, n in rows],
            token=window.token_after(len(rows)),
        )

    # ---- named entities ------------------------------------------------------------------------

    @staticmethod
    def _named(
        resource_type: int, project: str, domain: str, name: str, meta: NamedEntityMetadata | None
    ) -> common_pb2.NamedEntity:
        entity: common_pb2.NamedEntity = common_pb2.NamedEntity(
            resource_type=resource_type,  # type: ignore[arg-type]
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain, name=name),
            metadata=common_pb2.NamedEntityMetadata(
                description=meta.description if meta else "",
                state=meta.state if meta else common_pb2.NAMED_ENTITY_ACTIVE,  # type: ignore[arg-type]
            ),
        )
        return entity

    async def list_named_entities(self, request: common_pb2.NamedEntityListRequest) -> common_pb2.NamedEntityList:
        model, _ = _model(request.resource_type)
        require(request.project, "project")
        require(request.domain, "domain")
        window = page(request.limit, request.token)
        filters = parse_named_entity_filters(request.filters) if request.filters else None
        descending = request.HasField("sort_by") and request.sort_by.direction != common_pb2.Sort.ASCENDING
        async with self.ctx.db.session() as session:
            rows = await entities.list_named_entities(
                session, model, request.resource_type, request.project, request.domain, filters, descending, window
            )
        return common_pb2.NamedEntityList(
            entities=[self._named(request.resource_type, request.project, request.domain, n, m) for n, m in rows],
            token=window.token_after(len(rows)),
        )

    async def get_named_entity(self, request: common_pb2.NamedEntityGetRequest) -> common_pb2.NamedEntity:
        model, _ = _model(request.resource_type)
        for part in ("project", "domain", "name"):
            require(getattr(request.id, part), f"id.{part}")
        async with self.ctx.db.session() as session:
            await self._require_named(session, model, request.id)
            meta = await entities.named_entity_metadata(
                session, request.resource_type, request.id.project, request.id.domain, request.id.name
            )
        return self._named(request.resource_type, request.id.project, request.id.domain, request.id.name, meta)

    @staticmethod
    async def _require_named(
        session: AsyncSession, model: VersionedModel, ident: common_pb2.NamedEntityIdentifier
    ) -> None:
        if not await entities.name_exists(session, model, ident):
            raise NotFound(f"no entity named {ident.project}/{ident.domain}/{ident.name}", field="id")

    async def update_named_entity(
        self, request: common_pb2.NamedEntityUpdateRequest
    ) -> common_pb2.NamedEntityUpdateResponse:
        model, _ = _model(request.resource_type)
        for part in ("project", "domain", "name"):
            require(getattr(request.id, part), f"id.{part}")
        check_text(request.id.org, "id.org")
        check_text(request.metadata.description, "metadata.description", limit=DESCRIPTION_LIMIT)
        if request.metadata.state not in common_pb2.NamedEntityState.values():
            raise InvalidArgument(f"unknown named entity state {request.metadata.state}", field="metadata.state")
        async with self.ctx.db.session() as session:
            await self._require_named(session, model, request.id)
            meta = await entities.named_entity_metadata(
                session, request.resource_type, request.id.project, request.id.domain, request.id.name
            )
            if meta is None:
                meta = NamedEntityMetadata(
                    resource_type=request.resource_type,
                    project=request.id.project,
                    domain=request.id.domain,
                    name=request.id.name,
                    org=request.id.org,
                )
                entities.add_named_entity_metadata(session, meta)
            meta.description = request.metadata.description
            meta.state = request.metadata.state
        return common_pb2.NamedEntityUpdateResponse()

    # ---- description entities -----------------------------------------------------------------

    @staticmethod
    def _description(row: DescriptionEntity) -> description_entity_pb2.DescriptionEntity:
        entity = description_entity_pb2.DescriptionEntity.FromString(row.body)
        entity.id.CopyFrom(
            identifier_pb2.Identifier(
                resource_type=row.resource_type,  # type: ignore[arg-type]
                project=row.project,
                domain=row.domain,
                name=row.name,
                version=row.version,
                org=row.org,
            )
        )
        return entity

    async def get_description(self, ident: identifier_pb2.Identifier) -> description_entity_pb2.DescriptionEntity:
        for part in ("project", "domain", "name", "version"):
            require(getattr(ident, part), f"id.{part}")
        async with self.ctx.db.session() as session:
            row = await entities.description(session, ident)
        if row is None:
            raise NotFound("description entity not found", field="id")
        return self._description(row)

    async def list_descriptions(
        self, request: description_entity_pb2.DescriptionEntityListRequest
    ) -> description_entity_pb2.DescriptionEntityList:
        check_named_id(request.id)
        window = page(request.limit, request.token)
        sort = request.sort_by if request.HasField("sort_by") else None
        async with self.ctx.db.session() as session:
            rows = await entities.list_descriptions(session, request.resource_type, request.id, sort, window)
        return description_entity_pb2.DescriptionEntityList(
            descriptionEntities=[self._description(r) for r in rows], token=window.token_after(len(rows))
        )


def parse_named_entity_filters(text: str) -> list[tuple[str, str, str]]:
    """Named-entity filters reach `name`, `state` and `description` (the metadata's)."""
    out = []
    expressions = "+".join(e for e in text.split("+") if e)
    for function, field, value in filter_expressions(expressions) if expressions else []:
        column = field.rpartition(".")[2]
        if column not in ("name", "state", "description"):
            raise InvalidArgument(f"'{field}' is invalid filter", field="filters")
        out.append((column, function, value))
    return out
