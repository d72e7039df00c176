"""The gRPC face of admin: one table per service mapping each RPC to the manager call that answers it.

An RPC missing from a table answers UNIMPLEMENTED (grpcio's default); a name that is not an RPC of
the service fails at start-up, so the tables cannot drift from the IDL silently.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

from admin.auth.external import IdentityProvider
from admin.auth.oauth import SCOPES
from admin.auth.people import AUTHORIZE_PATH, DEVICE_CODE_PATH, PEOPLE_GRANTS
from admin.auth.principal import current_principal
from admin.auth.server import GRANT_TYPES, JWKS_PATH, TOKEN_PATH
from admin.config import PublicClient
from admin.managers.attributes import PROJECT, PROJECT_DOMAIN, WORKFLOW, AttributesManager
from admin.managers.context import AdminContext
from admin.managers.dataproxy import DataProxy
from admin.managers.entity_lists import EntityLists
from admin.managers.events.ingest import EventManager
from admin.managers.executions import ExecutionManager
from admin.managers.node_executions import NodeExecutionManager, TaskExecutionManager, execution_data
from admin.managers.projects import ProjectManager
from admin.managers.registration import RegistrationManager
from admin.managers.schedules import ScheduleFeed
from admin.managers.signals import SignalManager
from flyteidl_py.admin import version_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.auth.v1 import tokens_pb2, tokens_pb2_grpc
from flyteidl_py.flyteplane.events.v1 import events_pb2, events_pb2_grpc
from flyteidl_py.flyteplane.schedules.v1 import schedules_pb2, schedules_pb2_grpc
from flyteidl_py.service import (
    admin_pb2,
    admin_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    dataproxy_pb2,
    dataproxy_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    signal_pb2,
    signal_pb2_grpc,
)
from flyteplane import __build_time__, __version__
from flyteplane.rpc import Handler, servicer


@dataclass(frozen=True)
class Managers:
    projects: ProjectManager
    registration: RegistrationManager
    lists: EntityLists
    attributes: AttributesManager
    executions: ExecutionManager
    events: EventManager
    nodes: NodeExecutionManager
    tasks: TaskExecutionManager
    signals: SignalManager
    dataproxy: DataProxy
    schedules: ScheduleFeed
    ctx: AdminContext

    @classmethod
    def build(cls, ctx: AdminContext) -> Managers:
        registration = RegistrationManager(ctx)
        attributes = AttributesManager(ctx)
        return cls(
            projects=ProjectManager(ctx),
            registration=registration,
            lists=EntityLists(ctx),
            attributes=attributes,
            executions=ExecutionManager(ctx, registration, attributes),
            events=EventManager(ctx),
            nodes=NodeExecutionManager(ctx),
            tasks=TaskExecutionManager(ctx),
            signals=SignalManager(ctx),
            dataproxy=DataProxy(ctx),
            schedules=ScheduleFeed(ctx),
            ctx=ctx,
        )


def _version() -> version_pb2.GetVersionResponse:
    # Flyte's own form (flytestdlib's version package): a `v`-prefixed release, a build label and the
    # build date; flytekit's tools print the release and some scripts compare it as `vX.Y.Z`.
    return version_pb2.GetVersionResponse(
        control_plane_version=version_pb2.Version(
            Version=f"v{__version__}",
            Build=f"flyteplane-{__version__}-py{platform.python_version()}",
            BuildTime=__build_time__,
        )
    )


async def _const(value: Any) -> Any:
    return value


def admin_routes(m: Managers) -> dict[str, Handler]:
    r, lists = m.registration, m.lists
    return {
        "CreateTask": r.create_task,
        "GetTask": lambda q: r.get_task(q.id),
        "ListTaskIds": lambda q: lists.list_ids(identifier_pb2.TASK, q),
        "ListTasks": lists.list_tasks,
        "CreateWorkflow": r.create_workflow,
        "GetWorkflow": lambda q: r.get_workflow(q.id),
        "ListWorkflowIds": lambda q: lists.list_ids(identifier_pb2.WORKFLOW, q),
        "ListWorkflows": lists.list_workflows,
        "CreateLaunchPlan": r.create_launch_plan,
        "GetLaunchPlan": lambda q: r.get_launch_plan(q.id),
        "GetActiveLaunchPlan": r.get_active_launch_plan,
        "ListActiveLaunchPlans": lists.list_active_launch_plans,
        "ListLaunchPlanIds": lambda q: lists.list_ids(identifier_pb2.LAUNCH_PLAN, q),
        "ListLaunchPlans": lists.list_launch_plans,
        "UpdateLaunchPlan": r.update_launch_plan,
        "CreateExecution": m.executions.create,
        "RelaunchExecution": m.executions.relaunch,
        "RecoverExecution": m.executions.recover,
        "GetExecution": lambda q: m.executions.get(q.id),
        "UpdateExecution": m.executions.update,
        "GetExecutionData": lambda q: execution_data(m.ctx, q),
        "ListExecutions": m.executions.list,
        "TerminateExecution": m.executions.terminate,
        "GetExecutionMetrics": m.executions.metrics,
        "GetNodeExecution": m.nodes.get,
        "GetDynamicNodeWorkflow": m.nodes.dynamic_workflow,
        "ListNodeExecutions": m.nodes.list,
        "ListNodeExecutionsForTask": m.nodes.list_for_task,
        "GetNodeExecutionData": m.nodes.get_data,
        "RegisterProject": m.projects.register,
        "UpdateProject": m.projects.update,
        "GetProject": m.projects.get,
        "ListProjects": m.projects.list,
        "GetDomains": lambda q: m.projects.domains(),
        "CreateWorkflowEvent": m.events.workflow_event,
        "CreateNodeEvent": m.events.node_event,
        "CreateTaskEvent": m.events.task_event,
        "GetTaskExecution": m.tasks.get,
        "ListTaskExecutions": m.tasks.list,
        "GetTaskExecutionData": m.tasks.get_data,
        "UpdateProjectDomainAttributes": lambda q: m.attributes.update(PROJECT_DOMAIN, q),
        "GetProjectDomainAttributes": lambda q: m.attributes.get(PROJECT_DOMAIN, q),
        "DeleteProjectDomainAttributes": lambda q: m.attributes.delete(PROJECT_DOMAIN, q),
        "UpdateProjectAttributes": lambda q: m.attributes.update(PROJECT, q),
        "GetProjectAttributes": lambda q: m.attributes.get(PROJECT, q),
        "DeleteProjectAttributes": lambda q: m.attributes.delete(PROJECT, q),
        "UpdateWorkflowAttributes": lambda q: m.attributes.update(WORKFLOW, q),
        "GetWorkflowAttributes": lambda q: m.attributes.get(WORKFLOW, q),
        "DeleteWorkflowAttributes": lambda q: m.attributes.delete(WORKFLOW, q),
        "ListMatchableAttributes": m.attributes.list_matchable,
        "ListNamedEntities": lists.list_named_entities,
        "GetNamedEntity": lists.get_named_entity,
        "UpdateNamedEntity": lists.update_named_entity,
        "GetVersion": lambda q: _const(_version()),
        "GetDescriptionEntity": lambda q: lists.get_description(q.id),
        "ListDescriptionEntities": lists.list_descriptions,
    }


def dataproxy_routes(m: Managers) -> dict[str, Handler]:
    return {
        "CreateUploadLocation": m.dataproxy.create_upload_location,
        "CreateDownloadLocation": m.dataproxy.create_download_location,
        "CreateDownloadLink": m.dataproxy.create_download_link,
        "GetData": m.dataproxy.get_data,
    }


def signal_routes(m: Managers) -> dict[str, Handler]:
    return {
        "GetOrCreateSignal": m.signals.get_or_create,
        "ListSignals": m.signals.list,
        "SetSignal": m.signals.set,
    }


@dataclass(frozen=True)
class AuthAdvertisement:
    """What AuthMetadataService says: admin's authorization server (admin.auth.server), or, for people's logins,
    the external OpenID Connect provider admin accepts tokens from."""

    issuer: str
    audience: str
    header_key: str = "flyte-authorization"
    external: IdentityProvider | None = None
    # People log in at admin's own server (admin.auth.people: built-in, with a provider), as this public client.
    people_client: PublicClient | None = None


def auth_routes(http_base: str, auth: AuthAdvertisement | None = None) -> dict[str, Handler]:
    """AuthMetadataService, as things are (flytekit reads it after an UNAUTHENTICATED answer to find the token
    endpoint, the scopes to ask for and the header to send).

    Without an external provider: admin's own server, where services and CI get tokens with client credentials
    (flytekit `authType: ClientSecret`). With one: the provider's endpoints (authorization code with PKCE, device
    flow, its token endpoint) and the public client people log in as — unless people log in at admin's own server
    (`people_client`): then its own endpoints for people too, and its public client (`flytectl`)."""
    auth = auth or AuthAdvertisement(issuer=http_base, audience=http_base)
    own = auth_pb2.OAuth2MetadataResponse(
        issuer=auth.issuer,
        token_endpoint=f"{http_base}{TOKEN_PATH}",
        scopes_supported=list(SCOPES),
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        jwks_uri=f"{http_base}{JWKS_PATH}",
        grant_types_supported=list(GRANT_TYPES),
    )
    if auth.people_client is not None:
        own.authorization_endpoint = f"{http_base}{AUTHORIZE_PATH}"
        own.device_authorization_endpoint = f"{http_base}{DEVICE_CODE_PATH}"
        own.response_types_supported.append("code")
        own.code_challenge_methods_supported.append("S256")
        own.grant_types_supported.extend(PEOPLE_GRANTS)
        own.token_endpoint_auth_methods_supported.append("none")  # public clients
        builtin = auth_pb2.PublicClientAuthConfigResponse(
            client_id=auth.people_client.client_id,
            redirect_uri=auth.people_client.redirect_uris[0] if auth.people_client.redirect_uris else "",
            scopes=list(SCOPES),  # "offline" too: people's logins get a refresh token
            authorization_metadata_key=auth.header_key,
            service_http_endpoint=http_base,
            audience=auth.audience,
        )
        return {"GetOAuth2Metadata": lambda q: _const(own), "GetPublicClientConfig": lambda q: _const(builtin)}
    client = auth_pb2.PublicClientAuthConfigResponse(
        client_id="flytectl",
        redirect_uri="http://localhost:53593/callback",
        scopes=["all"],
        authorization_metadata_key=auth.header_key,
        service_http_endpoint=http_base,
        audience=auth.audience,
    )
    external = auth.external
    if external is None:
        return {
            "GetOAuth2Metadata": lambda q: _const(own),
            "GetPublicClientConfig": lambda q: _const(client),
        }
    settings = external.settings
    people = auth_pb2.PublicClientAuthConfigResponse(
        client_id=settings.client_id,
        redirect_uri=settings.redirect_uri,
        scopes=list(settings.scopes),
        authorization_metadata_key=auth.header_key,
        service_http_endpoint=http_base,
    )

    async def provider_metadata(_: auth_pb2.OAuth2MetadataRequest) -> auth_pb2.OAuth2MetadataResponse:
        document = await external.discovery()

        def strings(key: str) -> list[str]:
            value = document.get(key, [])
            return [str(v) for v in value] if isinstance(value, list) else []

        return auth_pb2.OAuth2MetadataResponse(
            issuer=str(document.get("issuer", "")),
            authorization_endpoint=str(document.get("authorization_endpoint", "")),
            token_endpoint=str(document.get("token_endpoint", "")),
            response_types_supported=strings("response_types_supported"),
            scopes_supported=strings("scopes_supported"),
            token_endpoint_auth_methods_supported=strings("token_endpoint_auth_methods_supported"),
            jwks_uri=str(document.get("jwks_uri", "")),
            code_challenge_methods_supported=strings("code_challenge_methods_supported"),
            grant_types_supported=strings("grant_types_supported"),
            device_authorization_endpoint=str(document.get("device_authorization_endpoint", "")),
        )

    return {"GetOAuth2Metadata": provider_metadata, "GetPublicClientConfig": lambda q: _const(people)}


def identity_routes() -> dict[str, Handler]:
    """IdentityService: who the caller is (the token's subject), or anonymous while auth is off."""
    anonymous = identity_pb2.UserInfoResponse(subject="anonymous", name="anonymous", preferred_username="anonymous")

    async def user_info(_: identity_pb2.UserInfoRequest) -> identity_pb2.UserInfoResponse:
        principal = current_principal.get()
        if principal is None:
            return anonymous
        return identity_pb2.UserInfoResponse(
            subject=principal.subject,
            name=principal.name or principal.subject,
            preferred_username=principal.name or principal.subject,
            email=principal.email,
        )

    return {"UserInfo": user_info}


SERVICES = (
    (admin_pb2.DESCRIPTOR.services_by_name["AdminService"], admin_pb2_grpc),
    (dataproxy_pb2.DESCRIPTOR.services_by_name["DataProxyService"], dataproxy_pb2_grpc),
    (auth_pb2.DESCRIPTOR.services_by_name["AuthMetadataService"], auth_pb2_grpc),
    (identity_pb2.DESCRIPTOR.services_by_name["IdentityService"], identity_pb2_grpc),
    (signal_pb2.DESCRIPTOR.services_by_name["SignalService"], signal_pb2_grpc),
    # flyteplane's own: propeller's events in batches (see admin.managers.events.ingest).
    (events_pb2.DESCRIPTOR.services_by_name["EventSinkService"], events_pb2_grpc),
    # flyteplane's own: the active schedules, for the scheduler (see admin.managers.schedules).
    (schedules_pb2.DESCRIPTOR.services_by_name["ScheduleService"], schedules_pb2_grpc),
    # flyteplane's own: tokens for task processes, for the engine (see admin.auth.task_tokens).
    (tokens_pb2.DESCRIPTOR.services_by_name["TaskTokenService"], tokens_pb2_grpc),
)


def route_tables(
    m: Managers, http_base: str, auth: AuthAdvertisement | None = None, task_tokens: Handler | None = None
) -> dict[str, dict[str, Handler]]:
    """Each service's handlers by RPC name: what both the gRPC services and the REST gateway call."""
    return {
        "AdminService": admin_routes(m),
        "DataProxyService": dataproxy_routes(m),
        "AuthMetadataService": auth_routes(http_base, auth),
        "IdentityService": identity_routes(),
        "SignalService": signal_routes(m),
        "EventSinkService": {"RecordEvents": m.events.record_events},
        "ScheduleService": {"ListSchedules": m.schedules.list_schedules},
        "TaskTokenService": {"IssueTaskToken": task_tokens} if task_tokens is not None else {},
    }


def add_services(server: Any, tables: dict[str, dict[str, Handler]]) -> list[str]:
    """Register admin's services (Flyte's five, the event sink, the schedule feed) on a grpc.aio server.

    Returns their full names."""
    for descriptor, module in SERVICES:
        base = getattr(module, f"{descriptor.name}Servicer")
        add = getattr(module, f"add_{descriptor.name}Servicer_to_server")
        add(servicer(base, descriptor, tables[descriptor.name]), server)
    return [descriptor.full_name for descriptor, _ in SERVICES]
