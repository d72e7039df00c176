"""Request validation shared by the managers: identifiers, projects and domains, as admin checks them."""

from __future__ import annotations

from typing import Protocol

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from admin.config import AdminConfig
from admin.repositories import projects
from flyteidl_py.admin import common_pb2, project_pb2
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import InvalidArgument

RESOURCE_NAMES: dict[int, str] = {
    identifier_pb2.TASK: "task",
    identifier_pb2.WORKFLOW: "workflow",
    identifier_pb2.LAUNCH_PLAN: "launch_plan",
    identifier_pb2.DATASET: "dataset",
    identifier_pb2.UNSPECIFIED: "unspecified",
}


# The longest value each identifier part may have (the widths of admin's columns, Flyte's among them).
PART_LIMITS = {
    "project": 63,
    "domain": 63,
    "org": 63,
    "name": 255,
    "version": 255,
    "node_id": 255,
    "workflow": 255,
    "launch_plan": 255,
}
EXECUTION_NAME_LIMIT = 63


def require(value: str, field: str, limit: int | None = None) -> str:
    """A non-empty identifier part that can be stored: INVALID_ARGUMENT naming `field` otherwise."""
    if not value:
        raise InvalidArgument(f"missing {field.rsplit('.', 1)[-1]}", field=field)
    return check_text(value, field, limit)


def check_text(value: str, field: str, limit: int | None = None) -> str:
    """No NUL (no database stores it in text) and no longer than the part's limit (`limit`, else PART_LIMITS)."""
    if "\x00" in value:
        raise InvalidArgument("must not contain NUL characters", field=field)
    limit = limit if limit is not None else PART_LIMITS.get(field.rsplit(".", 1)[-1])
    if limit is not None and len(value) > limit:
        raise InvalidArgument(f"is {len(value)} characters long; at most {limit} are allowed", field=field)
    return value


def check_identifier(ident: identifier_pb2.Identifier, expected: int, field: str = "id") -> None:
    """Fully specified and of the expected resource type, as every Create*/Get* requires."""
    if ident.ByteSize() == 0:
        raise InvalidArgument("missing identifier", field=field)
    if ident.resource_type != expected:
        raise InvalidArgument(
            f"unexpected resource type {RESOURCE_NAMES.get(ident.resource_type, ident.resource_type)} "
            f"for identifier [{id_str(ident)}], expected {RESOURCE_NAMES[expected]} instead",
            field=f"{field}.resource_type",
        )
    for part in ("project", "domain", "name", "version"):
        require(getattr(ident, part), f"{field}.{part}")
    check_text(ident.org, f"{field}.org")


def check_execution_id(ident: identifier_pb2.WorkflowExecutionIdentifier, field: str = "id") -> None:
    require(ident.project, f"{field}.project")
    require(ident.domain, f"{field}.domain")
    require(ident.name, f"{field}.name", EXECUTION_NAME_LIMIT)
    check_text(ident.org, f"{field}.org")


def check_named_id(ident: common_pb2.NamedEntityIdentifier, field: str = "id") -> None:
    """A list scope: project and domain required; a name, when given, storable like any name."""
    require(ident.project, f"{field}.project")
    require(ident.domain, f"{field}.domain")
    check_text(ident.name, f"{field}.name")
    check_text(ident.org, f"{field}.org")


def check_node_execution_id(ident: identifier_pb2.NodeExecutionIdentifier, field: str = "id") -> None:
    check_execution_id(ident.execution_id, f"{field}.execution_id")
    require(ident.node_id, f"{field}.node_id")


def check_strings(message: Message, field: str, limit: int) -> None:
    """Every string in `message` (at any depth) is printable text of at most `limit` characters.

    For settings stored as they are and applied later (matchable attributes): a NUL byte or a
    control character in a queue name, a label or a service account is never meaningful, and a
    10 KB value is a mistake that would surface far from where it was made.
    """
    for descriptor, value in message.ListFields():
        path = f"{field}.{descriptor.name}"
        if descriptor.type == descriptor.TYPE_MESSAGE:
            entry = descriptor.message_type
            if entry is not None and entry.GetOptions().map_entry:
                for key, item in value.items():
                    if isinstance(key, str):
                        _check_printable(key, path, limit)
                    if isinstance(item, Message):
                        check_strings(item, f"{path}[{key}]", limit)
                    elif isinstance(item, str):
                        _check_printable(item, f"{path}[{key}]", limit)
            elif descriptor.is_repeated:
                for index, item in enumerate(value):
                    check_strings(item, f"{path}[{index}]", limit)
            else:
                check_strings(value, path, limit)
        elif descriptor.type == descriptor.TYPE_STRING:
            for index, item in enumerate(value if descriptor.is_repeated else [value]):
                _check_printable(item, f"{path}[{index}]" if descriptor.is_repeated else path, limit)


def _check_printable(value: str, field: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"is {len(value)} characters long; at most {limit} are allowed", field=field)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidArgument("must not contain control characters", field=field)


def id_str(ident: identifier_pb2.Identifier) -> str:
    return f"{ident.project}/{ident.domain}/{ident.name}/{ident.version}"


def exec_str(ident: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    return f"{ident.project}/{ident.domain}/{ident.name}"


async def check_project_domain(
    session: AsyncSession, config: AdminConfig, project: str, domain: str, field: str = "id"
) -> None:
    """The project must exist and be active; the domain must be one the platform knows."""
    require(project, f"{field}.project")
    require(domain, f"{field}.domain")
    row = await projects.find(session, project)
    if row is None:
        raise InvalidArgument(
            f"failed to validate that project [{project}] and domain [{domain}] are registered, "
            f"err: [project [{project}] not found]",
            field=f"{field}.project",
        )
    if row.state != project_pb2.Project.ACTIVE:
        raise InvalidArgument(
            f"project [{project}] is not active",
            field=f"{field}.project",
            details=project_pb2.InactiveProject(id=project),
        )
    if domain not in config.domains:
        raise InvalidArgument(f"domain [{domain}] is unrecognized by system", field=f"{field}.domain")


class _Versioned(Protocol):
    """Anything naming a versioned entity: an Identifier, or a row of a task, workflow, launch plan or attempt."""

    @property
    def project(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...


def identifier(
    resource_type: identifier_pb2.ResourceType, of: _Versioned, *, name: str | None = None
) -> identifier_pb2.Identifier:
    """The `resource_type` identifier at `of`'s project, domain, name (unless `name` is given) and version."""
    return identifier_pb2.Identifier(
        resource_type=resource_type,
        project=of.project,
        domain=of.domain,
        name=of.name if name is None else name,
        version=of.version,
    )
