"""Matchable attributes: overrides stored per project, project-domain or workflow, resolved by priority."""

from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from admin.managers.context import AdminContext
from admin.managers.ids import check_project_domain, require
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


def _scope(message: Message, levels: int, prefix: str = "") -> Scope:
    """The scope a request names: its project, domain and workflow, as many levels as the RPC has, each required."""
    return Scope(
        *(require(getattr(message, part), f"{prefix}{part}") for part in ("project", "domain", "workflow")[:levels])
    )


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

    # ---- RPCs ----------------------------------------------------------------------------------

    async def update_project_domain(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse:
        a = request.attributes
        scope = _scope(a, 2, "attributes.")
        await self._update(scope, a.matching_attributes, a.org)
        return project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse()

    async def get_project_domain(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesGetRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        scope = _scope(request, 2)
        attributes = await self._get(scope, request.resource_type)
        return project_domain_attributes_pb2.ProjectDomainAttributesGetResponse(
            attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                project=request.project,
                domain=request.domain,
                matching_attributes=attributes,
                org=request.org,
            )
        )

    async def delete_project_domain(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesDeleteRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse:
        await self._delete(
            _scope(request, 2),
            request.resource_type,
        )
        return project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse()

    async def update_project(
        self, request: project_attributes_pb2.ProjectAttributesUpdateRequest
    ) -> project_attributes_pb2.ProjectAttributesUpdateResponse:
        a = request.attributes
        await self._update(_scope(a, 1, "attributes."), a.matching_attributes, a.org)
        return project_attributes_pb2.ProjectAttributesUpdateResponse()

    async def get_project(
        self, request: project_attributes_pb2.ProjectAttributesGetRequest
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        attributes = await self._get(_scope(request, 1), request.resource_type)
        return project_attributes_pb2.ProjectAttributesGetResponse(
            attributes=project_attributes_pb2.ProjectAttributes(
                project=request.project, matching_attributes=attributes, org=request.org
            )
        )

    async def delete_project(
        self, request: project_attributes_pb2.ProjectAttributesDeleteRequest
    ) -> project_attributes_pb2.ProjectAttributesDeleteResponse:
        await self._delete(_scope(request, 1), request.resource_type)
        return project_attributes_pb2.ProjectAttributesDeleteResponse()

    async def update_workflow(
        self, request: workflow_attributes_pb2.WorkflowAttributesUpdateRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesUpdateResponse:
        a = request.attributes
        scope = _scope(a, 3, "attributes.")
        await self._update(scope, a.matching_attributes, a.org)
        return workflow_attributes_pb2.WorkflowAttributesUpdateResponse()

    async def get_workflow(
        self, request: workflow_attributes_pb2.WorkflowAttributesGetRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        scope = _scope(request, 3)
        attributes = await self._get(scope, request.resource_type)
        return workflow_attributes_pb2.WorkflowAttributesGetResponse(
            attributes=workflow_attributes_pb2.WorkflowAttributes(
                project=request.project,
                domain=request.domain,
                workflow=request.workflow,
                matching_attributes=attributes,
                org=request.org,
            )
        )

    async def delete_workflow(
        self, request: workflow_attributes_pb2.WorkflowAttributesDeleteRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesDeleteResponse:
        scope = _scope(request, 3)
        await self._delete(scope, request.resource_type)
        return workflow_attributes_pb2.WorkflowAttributesDeleteResponse()

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
