"""Running admin: the grpc.aio server with its five services, and the HTTP server beside it."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import uvicorn
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from admin.auth.authorization import Authorizer
from admin.auth.clients import ServiceClients
from admin.auth.console_login import ConsoleLogin
from admin.auth.external import IdentityProvider
from admin.auth.grants import Grants
from admin.auth.guard import AuthInterceptor, Guard, RestGuard, authorized
from admin.auth.people import PeopleLogins
from admin.auth.principal import current_principal
from admin.auth.server import AuthorizationServer
from admin.auth.task_tokens import TaskTokens
from admin.auth.tokens import Revocations, TokenService
from admin.config import AdminPlaneConfig
from admin.console import Console
from admin.console_api import CacheExplainer, ConsoleApi
from admin.db import MIGRATIONS
from admin.delivery.dispatcher import DeliveryMetrics, OutboxDispatcher
from admin.engine import RecordingEngine, WorkflowEngine
from admin.engine_client import GrpcEngine
from admin.logs import LOG_ROUTE, LogEndpoint
from admin.managers.context import AdminContext
from admin.managers.task_logs import TaskLogs
from admin.pod_logs import PodLogs
from admin.rest import RestGateway, openapi, routes_from
from admin.service import SERVICES, AuthAdvertisement, Managers, add_services, route_tables
from flyteplane.credentials import CredentialInterceptor
from flyteplane.database import Database
from flyteplane.metrics import MetricsEndpoint, MetricsRegistry, metrics_route, serve_metrics, timed, watch_database
from flyteplane.rpc import ErrorInterceptor, add_health_and_reflection
from flyteplane.storage import Storage
from flyteplane.storage.http import signed_url_app
from flyteplane.storage.signing import persistent_secret
from flyteplane.tracing import traced

log = logging.getLogger("flyteplane.admin")

# flytekit accepts up to 20 MiB; accept as much on the way in.
MAX_MESSAGE_BYTES = 20 * 1024 * 1024


SIGNING_SECRET_FILE = "signing-secret"
AUTH_KEY_FILE = "auth-signing-key.pem"

# What only the engine may call: its reports on executions (flyteplane/credentials.py says why).
ENGINE_ONLY_RPCS = (
    "/flyteidl.service.AdminService/CreateWorkflowEvent",
    "/flyteidl.service.AdminService/CreateNodeEvent",
    "/flyteidl.service.AdminService/CreateTaskEvent",
    "/flyteplane.events.v1.EventSinkService/RecordEvents",
    "/flyteplane.auth.v1.TaskTokenService/IssueTaskToken",
)

# What creates an execution: without a caller's trace context, its request roots the execution's derived trace
# (flyteplane.tracing.execution_trace_id), which a console can compute from the execution id alone.
EXECUTION_CREATING_RPCS = frozenset(
    {
        "/flyteidl.service.AdminService/CreateExecution",
        "/flyteidl.service.AdminService/RelaunchExecution",
        "/flyteidl.service.AdminService/RecoverExecution",
    }
)


async def storage_for(config: AdminPlaneConfig, registry: MetricsRegistry | None = None) -> Storage:
    """The store admin signs URLs for; local signed URLs are served by admin's own HTTP port.

    Unless the configuration names a signing secret (as replicas sharing a store must), the secret
    is kept in the data directory, so URLs handed out stay valid when admin restarts.
    """
    storage = config.storage
    if "public_base_url" not in storage.model_fields_set:
        storage = storage.model_copy(update={"public_base_url": f"http://{config.admin.host}:{config.admin.http_port}"})
    if storage.signing_secret is None:
        path = config.data_dir.expanduser() / SIGNING_SECRET_FILE
        secret = await asyncio.to_thread(persistent_secret, path)
        storage = storage.model_copy(update={"signing_secret": SecretStr(secret.hex())})
    return Storage(storage, registry.storage if registry is not None else None)


@dataclass
class AdminServer:
    grpc_server: grpc.aio.Server
    http_server: uvicorn.Server
    http_task: asyncio.Task[None]
    db: Database
    grpc_port: int
    http_port: int
    managers: Managers
    dispatcher: OutboxDispatcher
    metrics: MetricsEndpoint | None = None
    pod_logs: PodLogs | None = None

    async def stop(self, grace: float = 2.0) -> None:
        if self.metrics is not None:
            await self.metrics.stop()
        self.http_server.should_exit = True
        await self.grpc_server.stop(grace)
        await self.dispatcher.stop()  # undelivered messages stay in the outbox for the next start
        await self.http_task
        if self.pod_logs is not None:
            await self.pod_logs.aclose()
        await self.db.dispose()

    async def wait(self) -> None:
        await self.grpc_server.wait_for_termination()


# REST answers compressed when the client accepts it: a listing of thousands of node executions is
# repetitive JSON. Not the log route: it streams, and a compressor would hold its bytes back.
COMPRESSED = [Middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)]


def _rest_authorization(
    authorizer: Authorizer,
) -> Callable[[str, Message, Callable[[], Awaitable[Message]]], Awaitable[Message]]:
    """Runs a REST route's RPC handler only if the caller may, and shapes what it answers (AuthInterceptor's rules)."""

    async def authorize(method: str, request: Message, call: Callable[[], Awaitable[Message]]) -> Message:
        principal = current_principal.get()
        if principal is not None:
            authorizer.check(principal, method, request)
        response = await call()
        shaped: Message = authorized(authorizer, method, request, response)
        return shaped

    return authorize


def task_logs(config: AdminPlaneConfig, ctx: AdminContext) -> TaskLogs:
    """The log finder with the configured roots and task directories, defaulting to the data directory's.

    The default roots are the task directories and the local store, not the whole data directory: it
    also holds the databases, the secrets key and the plane credential.
    """
    settings = config.admin.logs
    data_dir = config.data_dir.expanduser()
    task_dirs = settings.task_dirs or [data_dir / "local-tasks"]
    return TaskLogs(ctx, settings.roots or [*task_dirs, config.storage.local_root.expanduser()], task_dirs)


def _http_app(
    storage: Storage,
    gateway: RestGateway,
    logs: LogEndpoint,
    registry: CollectorRegistry | None,
    console: Console,
    console_api: ConsoleApi,
    authorization: AuthorizationServer,
    guard: Guard | None,
    authorizer: Authorizer,
    console_login: ConsoleLogin,
) -> Starlette:
    """Admin's HTTP port: health, metrics, the console, the REST API (and OpenAPI document), task logs, signed URLs,
    the OAuth2 endpoints; with auth on, behind the guard."""

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    document: dict[str, object] = {}

    async def openapi_document(_: Request) -> JSONResponse:
        if not document:  # built on first request: most admins are never asked for it
            document.update(openapi(gateway.routes))
        return JSONResponse(document)

    verbs = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    # The few annotated routes outside /api (OAuth2 metadata, client config, /me) have no variables.
    outside = sorted({r.template for r in gateway.routes if not r.template.startswith("/api/")})
    metrics = [metrics_route(registry)] if registry is not None else []
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/healthcheck", healthz),
            *metrics,
            Route("/api/v1/openapi.json", openapi_document),
            *authorization.routes(),
            *console_login.routes(),
            Route(LOG_ROUTE, logs.handle, methods=["GET"]),
            *console_api.routes(),
            *console.routes(),
            Route("/api/{path:path}", gateway.handle, methods=verbs, middleware=COMPRESSED),
            *(Route(template, gateway.handle, methods=verbs) for template in outside),
            Mount("/", app=signed_url_app(storage)),
        ],
        middleware=[Middleware(RestGuard, guard=guard, authorizer=authorizer)] if guard is not None else [],
    )


async def start_admin(
    config: AdminPlaneConfig,
    engine: WorkflowEngine | None = None,
    registry: MetricsRegistry | None = None,
    cache_explainer: CacheExplainer | None = None,
) -> AdminServer:
    """Start admin on the configured ports (0 picks free ones); the database must be migrated.

    `registry` is one other components of this process record into too (`flyteplane start`); without
    one admin makes its own when metrics are on. `cache_explainer` answers the console's "why a cache
    miss" (the launcher builds it: it needs DataCatalog); without one that route answers 501.
    """
    db = await MIGRATIONS.connect(config.database_url("admin", config.admin.database_url), "admin")
    host = config.admin.host
    # Bind HTTP first so a free port (0) is known before URLs are signed with it.
    http_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    http_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    http_socket.bind((host, config.admin.http_port))
    http_port = http_socket.getsockname()[1]
    config = config.model_copy(update={"admin": config.admin.model_copy(update={"http_port": http_port})})
    if registry is None and (config.admin.metrics_port or config.admin.http_metrics):
        registry = MetricsRegistry()
    watch_database(registry, db.engine, "admin")
    storage = await storage_for(config, registry)
    http_metrics = registry if config.admin.http_metrics else None

    credential = await asyncio.to_thread(config.plane_credential)
    if engine is None:
        engine = (
            GrpcEngine.connect(config.admin.engine_endpoint, credential)
            if config.admin.engine_endpoint
            else RecordingEngine()
        )
    ctx = AdminContext(db=db, storage=storage, engine=engine, config=config.admin)
    managers = Managers.build(ctx)
    await managers.projects.ensure_defaults()

    http_base = f"http://{host}:{http_port}"
    auth = config.admin.auth
    key_file = auth.signing_key_file or config.data_dir.expanduser() / AUTH_KEY_FILE
    tokens = TokenService(
        key_file.expanduser(),
        auth.issuer or http_base,
        auth.audiences,
        auth.access_token_seconds,
        Revocations(db),
        IdentityProvider(auth.external) if auth.external is not None else None,
        auth.leeway_seconds,
    )
    people = PeopleLogins(
        db,
        Grants(db, tokens, auth.refresh_token_seconds),
        tokens.external,
        auth,
        http_base,
        credential,
        tokens.audiences,
    )
    if auth.people == "built-in" and not people.enabled:
        log.warning("admin.auth.people is 'built-in' but no provider is configured: %s", people.off())
    authorization = AuthorizationServer(tokens, ServiceClients(db), people)
    guard = Guard(tokens, credential, [auth.header_key]) if auth.enabled else None
    authorizer = Authorizer(auth.authorization)
    if guard is not None:
        await tokens.signing_key()  # a key file that cannot be read or created stops admin here, not at a call
    server = grpc.aio.server(
        interceptors=timed(
            registry,
            *traced(EXECUTION_CREATING_RPCS),
            ErrorInterceptor(),
            *([AuthInterceptor(guard, authorizer)] if guard is not None else []),
            CredentialInterceptor(credential, ENGINE_ONLY_RPCS),
        ),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    people_client = next(iter(people.clients.values()), None) if people.enabled else None
    advertised = AuthAdvertisement(tokens.issuer, tokens.audience, auth.header_key, tokens.external, people_client)
    task_tokens = TaskTokens(tokens, db, enabled=auth.enabled, seconds=auth.task_token_seconds)
    tables = route_tables(managers, http_base, advertised, task_tokens.issue)
    names = add_services(server, tables)
    gateway = RestGateway(
        routes_from(((d, tables[d.name]) for d, _ in SERVICES), engine_only=ENGINE_ONLY_RPCS),
        credential,
        EXECUTION_CREATING_RPCS,
        # With auth on, the REST routes are authorized as the RPCs they stand for (the guard set the principal).
        authorize=_rest_authorization(authorizer) if guard is not None else None,
    )
    pod_logs = PodLogs(config.admin.logs.kubernetes)
    logs = LogEndpoint(
        task_logs(config, ctx), config.admin.logs.poll_interval_seconds, pod_logs, config.admin.logs.pod_window_bytes
    )
    bound: list[int] = []  # admin's gRPC port, bound below; the explainer asks admin over it
    local_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    console_api = ConsoleApi(storage, cache_explainer, lambda: f"{local_host}:{bound[0]}")
    http_server = uvicorn.Server(
        uvicorn.Config(
            _http_app(
                storage,
                gateway,
                logs,
                http_metrics,
                Console(config.admin.console),
                console_api,
                authorization,
                guard,
                authorizer,
                ConsoleLogin(tokens.external, http_base, credential),
            ),
            host=host,
            port=http_port,
            log_level="warning",
            lifespan="off",
        )
    )
    await add_health_and_reflection(server, names)
    grpc_port = server.add_insecure_port(f"{host}:{config.admin.grpc_port}")
    bound.append(grpc_port)
    await server.start()
    http_task = asyncio.create_task(http_server.serve(sockets=[http_socket]))
    while not http_server.started and not http_task.done():  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    log.info("admin serving gRPC on %s:%d and HTTP on %s:%d", host, grpc_port, host, http_port)
    # Without a metrics port the delivery instruments still count (tests read them), unexposed.
    dispatcher = OutboxDispatcher(db, config.admin.notifications, DeliveryMetrics(registry or CollectorRegistry()))
    dispatcher.start()
    metrics = None
    if registry is not None and config.admin.metrics_port:
        metrics = serve_metrics(registry, host, config.admin.metrics_port)
        log.info("admin serving metrics on http://%s:%d/metrics", host, metrics.port)
    return AdminServer(
        server, http_server, http_task, db, grpc_port, http_port, managers, dispatcher, metrics, pod_logs
    )
