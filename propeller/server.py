"""Running propeller: the engine plus the gRPC EngineService admin talks to."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import grpc

from flyteidl_py.flyteplane.engine.v1 import engine_pb2, engine_pb2_grpc
from flyteplane.credentials import CredentialInterceptor
from flyteplane.database import Database
from flyteplane.errors import InvalidArgument
from flyteplane.metrics import EngineMetrics, MetricsEndpoint, MetricsRegistry, serve_metrics, timed, watch_database
from flyteplane.rpc import ErrorInterceptor, add_health_and_reflection
from flyteplane.storage import Storage, join
from flyteplane.storage.task_credentials import TaskCredentialsIssuer
from flyteplane.tracing import traced
from plugins.registry import PluginRegistry
from propeller.admin_client import AdminClient
from propeller.catalog.client import CatalogClient
from propeller.config import PropellerPlaneConfig
from propeller.db import MIGRATIONS
from propeller.engine import Engine
from propeller.secrets import SecretsStore
from propeller.services import EngineSettings, default_owner, platform_environment

log = logging.getLogger("flyteplane.propeller")


class EngineService(engine_pb2_grpc.EngineServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def Launch(self, request: engine_pb2.LaunchRequest, context: Any) -> engine_pb2.LaunchResponse:
        for part in ("project", "domain", "name"):
            if not getattr(request.execution_id, part):
                raise InvalidArgument(f"missing {part}", field=f"execution_id.{part}")
        if not request.closure.primary.template.nodes:
            raise InvalidArgument("missing closure", field="closure.primary")
        await self.engine.launch(request)
        return engine_pb2.LaunchResponse()

    async def Abort(self, request: engine_pb2.AbortRequest, context: Any) -> engine_pb2.AbortResponse:
        await self.engine.abort(request.execution_id, request.cause or "aborted")
        return engine_pb2.AbortResponse()

    async def Status(self, request: engine_pb2.StatusRequest, context: Any) -> engine_pb2.StatusResponse:
        phase, owner = await self.engine.phase(request.execution_id)
        return engine_pb2.StatusResponse(phase=phase, owner=owner)  # type: ignore[arg-type]


@dataclass
class PropellerServer:
    engine: Engine
    grpc_server: grpc.aio.Server
    db: Database
    port: int
    admin: AdminClient
    plugins: PluginRegistry
    metrics: MetricsEndpoint | None = None

    async def stop(self, grace: float = 2.0) -> None:
        if self.metrics is not None:
            await self.metrics.stop()
        await self.grpc_server.stop(grace)
        await self.engine.stop()
        await self.plugins.aclose()
        await self.admin.close()
        if self.engine.services.catalog is not None:
            await self.engine.services.catalog.close()
        await self.db.dispose()


async def start_propeller(config: PropellerPlaneConfig, registry: MetricsRegistry | None = None) -> PropellerServer:
    """Start the engine and its API; the database must be migrated (`flyteplane migrate`).

    With `registry` (admin's, in `flyteplane start`) the engine's instruments go there and admin
    serves them; without, the engine has its own when `propeller.metrics_port` asks for an endpoint.
    """
    settings = config.propeller
    if registry is None and settings.metrics_port:
        registry = MetricsRegistry()
    db = await MIGRATIONS.connect(config.database_url("propeller", settings.database_url), "propeller")
    watch_database(registry, db.engine, "propeller")
    storage = Storage(config.storage, registry.storage if registry is not None else None)
    plugins = await PluginRegistry.load(settings.plugins)
    if registry is not None:
        plugins.register_metrics(registry)
    credential = await asyncio.to_thread(config.plane_credential)
    admin = AdminClient.connect(settings.admin_endpoint, credential)
    engine = Engine(
        db,
        storage,
        plugins,
        admin,
        EngineSettings(
            metadata_prefix=join(storage.default_prefix, settings.metadata_prefix),
            raw_output_prefix=settings.raw_output_prefix or join(storage.default_prefix, "raw"),
            tuning=settings,
            owner=settings.owner_id or default_owner(),
            platform_environment=platform_environment(settings.task_admin_endpoint or settings.admin_endpoint),
        ),
        EngineMetrics(registry) if registry is not None else None,
    )
    if settings.datacatalog_endpoint:
        engine.services.catalog = CatalogClient.connect(settings.datacatalog_endpoint)
    engine.services.secrets = SecretsStore(db, await asyncio.to_thread(config.secrets_key))
    if config.storage.default_scheme == "s3" and config.storage.s3.task_credentials.mode == "sts":
        engine.services.task_credentials = TaskCredentialsIssuer(config.storage.s3)
    await engine.start()
    engine_api = engine_pb2.DESCRIPTOR.services_by_name["EngineService"]
    only_admin = [f"/{engine_api.full_name}/{method.name}" for method in engine_api.methods]
    server = grpc.aio.server(
        interceptors=timed(
            registry,
            *traced(),
            ErrorInterceptor(),
            CredentialInterceptor(credential, only_admin),
        )
    )
    engine_pb2_grpc.add_EngineServiceServicer_to_server(EngineService(engine), server)
    await add_health_and_reflection(server, [engine_pb2.DESCRIPTOR.services_by_name["EngineService"].full_name])
    port = server.add_insecure_port(f"{settings.host}:{settings.grpc_port}")
    await server.start()
    log.info("propeller serving the engine API on %s:%d", settings.host, port)
    metrics = None
    if registry is not None and settings.metrics_port:
        metrics = serve_metrics(registry, settings.host, settings.metrics_port)
        log.info("propeller serving metrics on http://%s:%d/metrics", settings.host, metrics.port)
    return PropellerServer(engine, server, db, port, admin, plugins, metrics)
