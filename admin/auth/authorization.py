"""Authorization: which principal may do what in which project and domain, checked on every RPC and REST call.

Three roles, each containing the one before: `viewer` (read executions, entities, data, logs), `launcher`
(also launch, relaunch, recover, terminate, set signals, upload inputs) and `admin` (also register entities,
activate launch plans, change attributes and projects). Bindings in `admin.auth.authorization` give a role to
subjects (a token's principal: a service client's id, a person's email), to groups (from the identity provider's
claims) and to service clients, in some projects and domains ("*": all). A call's project and domain come from
its request (the identifiers it names); a call naming none (registering a project, a download location by URL)
needs the role in every project. Refused calls are PERMISSION_DENIED naming the permission and change nothing.
Every call that changes something is written to the audit log (logger `flyteplane.audit`), allowed or not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from admin.auth.principal import Principal
from admin.config import AuthorizationConfig, RoleBinding
from flyteplane.errors import PermissionDenied

audit = logging.getLogger("flyteplane.audit")

Permission = Literal["view", "execute", "administer"]
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({"view"}),
    "launcher": frozenset({"view", "execute"}),
    "admin": frozenset({"view", "execute", "administer"}),
}

_EXECUTE = {
    "CreateExecution", "RelaunchExecution", "RecoverExecution", "TerminateExecution", "UpdateExecution",
    "SetSignal", "GetOrCreateSignal", "CreateUploadLocation",
}  # fmt: skip
_ADMINISTER = {
    "CreateTask", "CreateWorkflow", "CreateLaunchPlan", "UpdateLaunchPlan", "UpdateNamedEntity", "RegisterProject",
    "UpdateProject", "UpdateProjectDomainAttributes", "DeleteProjectDomainAttributes", "UpdateProjectAttributes",
    "DeleteProjectAttributes", "UpdateWorkflowAttributes", "DeleteWorkflowAttributes",
}  # fmt: skip
# Any authenticated caller: nothing of a project's (ListProjects answers only the projects the caller may view).
_ANYONE = {"ListProjects", "GetDomains", "GetVersion", "UserInfo", "GetOAuth2Metadata", "GetPublicClientConfig"}
# Fields that lead from a request to the identifiers naming its project.
_PATH_FIELDS = (
    "id", "execution_id", "workflow_execution_id", "node_execution_id", "task_execution_id", "attributes",
    "resource_id", "task_id", "parent_node_execution",
)  # fmt: skip


def permission_of(method: str) -> Permission | None:
    """The permission an RPC (its short name) needs; None: any authenticated caller."""
    if method in _ANYONE:
        return None
    if method in _EXECUTE:
        return "execute"
    if method in _ADMINISTER:
        return "administer"
    return "view"


def _scope_in(message: Message, depth: int = 0) -> tuple[str, str] | None:
    fields = message.DESCRIPTOR.fields_by_name
    project = fields.get("project")
    if project is not None and project.type == FieldDescriptor.TYPE_STRING:
        value = str(getattr(message, project.name))
        if value:
            domain = fields.get("domain")
            named = domain is not None and domain.type == FieldDescriptor.TYPE_STRING
            return value, str(getattr(message, "domain")) if named else ""  # noqa: B009 (a message of any type)
    if depth >= 3:
        return None
    for name in _PATH_FIELDS:
        field = fields.get(name)
        if field is None or field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        try:
            present = message.HasField(name)
        except ValueError:  # a repeated field
            continue
        if present:
            found = _scope_in(getattr(message, name), depth + 1)
            if found is not None:
                return found
    return None


def scope_of(method: str, request: Message) -> tuple[str, str] | None:
    """The project and domain a request acts in (domain "" for a project-wide one); None when it names none."""
    if method in ("RegisterProject", "UpdateProject"):
        project = request if method == "UpdateProject" else getattr(request, "project", None)
        ident = getattr(project, "id", "")
        return (str(ident), "") if ident else None
    if method == "GetProject":
        ident = str(getattr(request, "id", ""))
        return (ident, "") if ident else None
    if method == "GetData":
        url = str(getattr(request, "flyte_url", ""))  # flyte://v1/<project>/<domain>/<execution>/...
        parts = url.removeprefix("flyte://v1/").split("/")
        return (parts[0], parts[1]) if url.startswith("flyte://v1/") and len(parts) > 1 else None
    return _scope_in(request)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    permission: Permission | None
    scope: tuple[str, str] | None


def _covers(values: Iterable[str], wanted: str) -> bool:
    return any(value in ("*", wanted) for value in values)


class Authorizer:
    """The bindings of `admin.auth.authorization`, asked per call."""

    def __init__(self, config: AuthorizationConfig) -> None:
        self.enabled = config.enabled
        self._bindings = list(config.bindings)

    def _bound(self, principal: Principal) -> list[RoleBinding]:
        return [
            b
            for b in self._bindings
            if principal.subject in b.subjects
            or (principal.client_id and principal.client_id in b.clients)
            or principal.groups & set(b.groups)
        ]

    def may(self, principal: Principal, permission: Permission, scope: tuple[str, str] | None) -> bool:
        if not self.enabled or principal.is_plane:
            return True
        for binding in self._bound(principal):
            if permission not in ROLE_PERMISSIONS[binding.role]:
                continue
            if scope is None:
                if "*" in binding.projects and "*" in binding.domains:
                    return True
                continue
            project, domain = scope
            # A project-wide call (no domain) needs the role in every domain of the project.
            in_domain = _covers(binding.domains, domain) if domain else "*" in binding.domains
            if _covers(binding.projects, project) and in_domain:
                return True
        return False

    def check(self, principal: Principal, method: str, request: Message) -> Decision:
        """PermissionDenied unless `principal` may call `method` (short name) with `request`; audits changes."""
        permission = permission_of(method)
        scope = scope_of(method, request) if permission is not None else None
        allowed = permission is None or self.may(principal, permission, scope)
        if permission in ("execute", "administer") and not principal.is_plane:
            where = f"{scope[0]}/{scope[1] or '*'}" if scope else "*"
            audit.info(
                "%s %s %s in %s (%s)",
                principal.subject, "called" if allowed else "was refused", method, where, permission,
            )  # fmt: skip
        if not allowed:
            where = f"project {scope[0]}" + (f", domain {scope[1]}" if scope[1] else "") if scope else "every project"
            raise PermissionDenied(
                f"{principal.subject} lacks the {permission!r} permission in {where} ({method}): ask an admin for "
                f"a role that has it ({', '.join(r for r, p in ROLE_PERMISSIONS.items() if permission in p)})"
            )
        return Decision(allowed, permission, scope)

    def visible_projects(self, principal: Principal, projects: Iterable[str]) -> set[str]:
        """Of `projects`, those `principal` may view (in some domain)."""
        visible = set()
        for project in projects:
            if not self.enabled or principal.is_plane:
                visible.add(project)
                continue
            for binding in self._bound(principal):
                if _covers(binding.projects, project):
                    visible.add(project)
                    break
        return visible
