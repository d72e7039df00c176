"""Matchable attributes: overrides stored per project, project-domain or workflow, resolved by priority."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from admin.managers.context import AdminContext
from admin.managers.ids import check_project_domain, check_strings, check_text, require
from admin.models import Resource
from admin.repositories import projects, resources
from admin.repositories.resources import Scope
from flyteidl_py.admin import (
    matchable_resource_pb2 as mr,
)
from flyteidl_py.admin import (
    project_attributes_pb2,
    project_domain_attributes_pb2,
    workflow_attributes_pb2,
)
from flyteplane.errors import InvalidArgument, NotFound

# MatchingAttributes oneof member for each resource type.
_MEMBER = {
    mr.TASK_RESOURCE: "task_resource_attributes",
    mr.CLUSTER_RESOURCE: "cluster_resource_attributes",
    mr.EXECUTION_QUEUE: "execution_queue_attributes",
    mr.EXECUTION_CLUSTER_LABEL: "execution_cluster_label",
    mr.QUALITY_OF_SERVICE_SPECIFICATION: "quality_of_service",
    mr.PLUGIN_OVERRIDE: "plugin_overrides",
    mr.WORKFLOW_EXECUTION_CONFIG: "workflow_execution_config",
    mr.CLUSTER_ASSIGNMENT: "cluster_assignment",
}


def _resource_type(attributes: mr.MatchingAttributes, field: str) -> int:
    member = attributes.WhichOneof("target")
    if member is None:
        raise InvalidArgument("missing matching_attributes", field=field)
    return next(t for t, m in _MEMBER.items() if m == member)


def _type_name(resource_type: int) -> str:
    if resource_type not in _MEMBER:
        raise InvalidArgument(f"unknown resource type {resource_type}", field="resource_type")
    return mr.MatchableResource.Name(resource_type)


_SCOPE_PARTS = ("project", "domain", "workflow")
# The longest string a matchable attribute may hold (an IAM role ARN is at most 2,048 characters).
ATTRIBUTE_TEXT_LIMIT = 2048


def _scope(message: object, levels: int, prefix: str = "") -> Scope:
    """The scope a request names: its project, domain and workflow, as many levels as the RPC has, each required."""
    return Scope(*(require(getattr(message, part), f"{prefix}{part}") for part in _SCOPE_PARTS[:levels]))


@dataclass(frozen=True)
class Level:
    """A scope at which attributes are stored, and the IDL messages its Update/Get/Delete RPCs answer with."""

    depth: int  # how many of project, domain, workflow name it
    attributes: Callable[..., Message]
    update_response: Callable[[], Message]
    get_response: Callable[..., Message]
    delete_response: Callable[[], Message]


PROJECT = Level(
    1,
    project_attributes_pb2.ProjectAttributes,
    project_attributes_pb2.ProjectAttributesUpdateResponse,
    project_attributes_pb2.ProjectAttributesGetResponse,
    project_attributes_pb2.ProjectAttributesDeleteResponse,
)
PROJECT_DOMAIN = Level(
    2,
    project_domain_attributes_pb2.ProjectDomainAttributes,
    project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse,
    project_domain_attributes_pb2.ProjectDomainAttributesGetResponse,
    project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse,
)
WORKFLOW = Level(
    3,
    workflow_attributes_pb2.WorkflowAttributes,
    workflow_attributes_pb2.WorkflowAttributesUpdateResponse,
    workflow_attributes_pb2.WorkflowAttributesGetResponse,
    workflow_attributes_pb2.WorkflowAttributesDeleteResponse,
)


class _ScopedAttributes(Protocol):
    """What every level's *Attributes message carries besides its scope."""

    @property
    def matching_attributes(self) -> mr.MatchingAttributes: ...
    @property
    def org(self) -> str: ...


class _UpdateRequest(Protocol):
    @property
    def attributes(self) -> _ScopedAttributes: ...


class _ScopedRequest(Protocol):
    """A Get or Delete request of any level (its project/domain/workflow are read by name)."""

    @property
    def resource_type(self) -> int: ...
    @property
    def org(self) -> str: ...


class AttributesManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    async def _check_scope(self, scope: Scope) -> None:
        async with self.ctx.db.session() as session:
            if scope.domain:
                await check_project_domain(session, self.ctx.config, scope.project, scope.domain, field="attributes")
            elif not await projects.exists(session, scope.project):
                raise InvalidArgument(f"project [{scope.project}] not found", field="attributes.project")

    async def _update(self, scope: Scope, attributes: mr.MatchingAttributes, org: str) -> None:
        resource_type = _resource_type(attributes, "attributes.matching_attributes")
        check_text(org, "attributes.org")
        check_strings(attributes, "attributes.matching_attributes", ATTRIBUTE_TEXT_LIMIT)
        for index, override in enumerate(attributes.plugin_overrides.overrides):
            require(override.task_type, f"attributes.matching_attributes.plugin_overrides.overrides[{index}].task_type")
        await self._check_scope(scope)
        async with self.ctx.db.session() as session:
            row = await resources.find(session, scope, _type_name(resource_type))
            if row is None:
                row = Resource(
                    project=scope.project,
                    domain=scope.domain,
                    workflow=scope.workflow,
                    launch_plan=scope.launch_plan,
                    org=org,
                    resource_type=_type_name(resource_type),
                    priority=scope.priority,
                    attributes=b"",
                )
                resources.add(session, row)
            elif resource_type == mr.PLUGIN_OVERRIDE:
                # Plugin overrides merge by task type; every other kind replaces the stored value.
                merged = mr.MatchingAttributes.FromString(row.attributes)
                by_type = {o.task_type: o for o in merged.plugin_overrides.overrides}
                by_type.update({o.task_type: o for o in attributes.plugin_overrides.overrides})
                attributes = mr.MatchingAttributes(plugin_overrides=mr.PluginOverrides(overrides=by_type.values()))
            row.attributes = attributes.SerializeToString()

    async def _get(self, scope: Scope, resource_type: int) -> mr.MatchingAttributes:
        async with self.ctx.db.session() as session:
            row = await resources.find(session, scope, _type_name(resource_type))
        if row is None:
            raise NotFound(
                f"Resource [{scope.project}/{scope.domain}/{scope.workflow}] of type "
                f"{_type_name(resource_type)} not found",
                field="resource_type",
            )
        return mr.MatchingAttributes.FromString(row.attributes)

    async def _delete(self, scope: Scope, resource_type: int) -> None:
        async with self.ctx.db.session() as session:
            row = await resources.find(session, scope, _type_name(resource_type))
            if row is None:
                raise NotFound(f"no {_type_name(resource_type)} attributes to delete", field="resource_type")
            await resources.delete(session, row)

    async def resolve(
        self,
        resource_type: int,
        project: str,
        domain: str = "",
        workflow: str = "",
        launch_plan: str = "",
        *,
        session: AsyncSession | None = None,
    ) -> mr.MatchingAttributes | None:
        """The most specific stored attributes that apply (launch plan > workflow > domain > project)."""
        scope, type_name = Scope(project, domain, workflow, launch_plan), _type_name(resource_type)
        if session is None:
            async with self.ctx.db.session() as own:
                row = await resources.most_specific(own, scope, type_name)
        else:
            row = await resources.most_specific(session, scope, type_name)
        return mr.MatchingAttributes.FromString(row.attributes) if row else None

    # ---- RPCs: Update/Get/Delete{Project,ProjectDomain,Workflow}Attributes, one method per verb ----

    async def update(self, level: Level, request: _UpdateRequest) -> Message:
        a = request.attributes
        await self._update(_scope(a, level.depth, "attributes."), a.matching_attributes, a.org)
        return level.update_response()

    async def get(self, level: Level, request: _ScopedRequest) -> Message:
        attributes = await self._get(_scope(request, level.depth), request.resource_type)
        scope = {part: getattr(request, part) for part in _SCOPE_PARTS[: level.depth]}
        return level.get_response(attributes=level.attributes(**scope, matching_attributes=attributes, org=request.org))

    async def delete(self, level: Level, request: _ScopedRequest) -> Message:
        await self._delete(_scope(request, level.depth), request.resource_type)
        return level.delete_response()

    async def list_matchable(self, request: mr.ListMatchableAttributesRequest) -> mr.ListMatchableAttributesResponse:
        async with self.ctx.db.session() as session:
            rows = await resources.of_type(session, _type_name(request.resource_type))
        return mr.ListMatchableAttributesResponse(
            configurations=[
                mr.MatchableAttributesConfiguration(
                    attributes=mr.MatchingAttributes.FromString(r.attributes),
                    project=r.project,
                    domain=r.domain,
                    workflow=r.workflow,
                    launch_plan=r.launch_plan,
                    org=r.org,
                )
                for r in rows
            ]
        )
