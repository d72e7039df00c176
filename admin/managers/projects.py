"""Projects and domains: registration, updates, listing, and the defaults a fresh plane starts with."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from admin.lists import list_request
from admin.managers.context import AdminContext
from admin.managers.ids import check_text, require
from admin.models import Project
from admin.repositories import projects
from flyteidl_py.admin import common_pb2, project_pb2
from flyteplane.errors import AlreadyExists, InvalidArgument, NotFound

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MAX_LABELS = 16


def _validate(project: project_pb2.Project, field: str = "project") -> None:
    require(project.id, f"{field}.id")
    if not project.name:
        raise InvalidArgument("missing project_name", field=f"{field}.name")
    if len(project.id) > 63 or not _DNS_LABEL.match(project.id):
        raise InvalidArgument(
            f"invalid project id [{project.id}]: must be a DNS-1123 label (lowercase letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit)",
            field=f"{field}.id",
        )
    if len(project.name) > 64:
        raise InvalidArgument("project name must be at most 64 characters", field=f"{field}.name")
    if len(project.description) > 300:
        raise InvalidArgument("project description must be at most 300 characters", field=f"{field}.description")
    if len(project.labels.values) > _MAX_LABELS:
        raise InvalidArgument(f"at most {_MAX_LABELS} labels are allowed", field=f"{field}.labels")
    for part in ("name", "description", "org"):
        check_text(getattr(project, part), f"{field}.{part}")
    if project.state not in project_pb2.Project.ProjectState.values():
        raise InvalidArgument(f"unknown project state {project.state}", field=f"{field}.state")


def _set_fields(row: Project, project: project_pb2.Project) -> None:
    """The fields a client sets, at registration and update alike."""
    row.name = project.name
    row.description = project.description
    row.labels = project.labels.SerializeToString()
    row.state = project.state


async def _existing(session: AsyncSession, identifier: str) -> Project:
    """The project an Update or Get names by `id` (required); NOT_FOUND when there is none."""
    row = await projects.find(session, require(identifier, "id"))
    if row is None:
        raise NotFound(f"project [{identifier}] not found", field="id")
    return row


class ProjectManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def _domains(self) -> list[project_pb2.Domain]:
        return [project_pb2.Domain(id=d, name=d) for d in self.ctx.config.domains]

    def _to_proto(self, row: Project) -> project_pb2.Project:
        return project_pb2.Project(
            id=row.identifier,
            name=row.name,
            description=row.description,
            labels=common_pb2.Labels.FromString(row.labels),
            domains=self._domains(),
            state=row.state,  # type: ignore[arg-type]
            org=row.org,
        )

    async def ensure_defaults(self) -> None:
        """Create the configured default projects (e.g. flytesnacks) if they do not exist yet."""
        async with self.ctx.db.session() as session:
            existing = await projects.existing(session, self.ctx.config.default_projects)
            for identifier in self.ctx.config.default_projects:
                if identifier not in existing:
                    projects.add(session, Project(identifier=identifier, name=identifier, description="", labels=b""))

    async def register(self, request: project_pb2.ProjectRegisterRequest) -> project_pb2.ProjectRegisterResponse:
        if not request.HasField("project"):
            raise InvalidArgument("missing project", field="project")
        project = request.project
        _validate(project)
        if project.domains:
            raise InvalidArgument(
                "Domains are currently only set system wide. Please retry without domains included in your request.",
                field="project.domains",
            )
        async with self.ctx.db.session() as session:
            if await projects.exists(session, project.id):
                raise AlreadyExists(f"project [{project.id}] already exists", field="project.id")
            row = Project(identifier=project.id, org=project.org)
            _set_fields(row, project)
            projects.add(session, row)
        return project_pb2.ProjectRegisterResponse()

    async def update(self, project: project_pb2.Project) -> project_pb2.ProjectUpdateResponse:
        async with self.ctx.db.session() as session:
            row = await _existing(session, project.id)
            if not project.name:
                project.name = row.name
            _validate(project, field="")
            _set_fields(row, project)
        return project_pb2.ProjectUpdateResponse()

    async def get(self, request: project_pb2.ProjectGetRequest) -> project_pb2.Project:
        async with self.ctx.db.session() as session:
            row = await _existing(session, request.id)
        return self._to_proto(row)

    async def list(self, request: project_pb2.ProjectListRequest) -> project_pb2.Projects:
        listing = list_request(request, "project", allow_unlimited=True)
        async with self.ctx.db.session() as session:
            rows = await projects.list_page(session, listing)
        return project_pb2.Projects(projects=[self._to_proto(r) for r in rows], token=listing.token_after(rows))

    async def domains(self) -> project_pb2.GetDomainsResponse:
        return project_pb2.GetDomainsResponse(domains=self._domains())

    async def count(self) -> int:
        async with self.ctx.db.session() as session:
            return await projects.count(session)
