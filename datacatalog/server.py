"""Running DataCatalog: the grpc.aio server with the DataCatalog service, health and reflection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import grpc

from datacatalog.config import DataCatalogPlaneConfig
from datacatalog.data_store import ArtifactDataStore
from datacatalog.db import MIGRATIONS
from datacatalog.managers.context import CatalogContext
from datacatalog.service import Managers, add_service
from flyteplane.database import Database, utcnow
from flyteplane.metrics import MetricsEndpoint, MetricsRegistry, serve_metrics, timed, watch_database
from flyteplane.rpc import ErrorInterceptor, add_health_and_reflection
from flyteplane.storage import Storage
from flyteplane.tracing import traced

log = logging.getLogger("flyteplane.datacatalog")

# Artifacts carry whole output literal maps; accept as much as admin does.
MAX_MESSAGE_BYTES = 20 * 1024 * 1024


@dataclass
class DataCatalogServer:
    grpc_server: grpc.aio.Server
    db: Database
    port: int
    managers: Managers
    metrics: MetricsEndpoint | None = None

    async def stop(self, grace: float = 2.0) -> None:
        if self.metrics is not None:
            await self.metrics.stop()
        await self.grpc_server.stop(grace)
        await self.db.dispose()

    async def wait(self) -> None:
        await self.grpc_server.wait_for_termination()


def context_for(
    config: DataCatalogPlaneConfig,
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    registry: MetricsRegistry | None = None,
) -> CatalogContext:
    storage = Storage(config.storage, registry.storage if registry is not None else None)
    prefix = storage.join(storage.default_prefix, config.datacatalog.storage_prefix)
    return CatalogContext(db=db, store=ArtifactDataStore(storage, prefix), config=config.datacatalog, clock=clock)


async def start_datacatalog(
    config: DataCatalogPlaneConfig,
    *,
    clock: Callable[[], datetime] = utcnow,
    registry: MetricsRegistry | None = None,
) -> DataCatalogServer:
    """Start DataCatalog on the configured port (0 picks a free one); the database must be migrated.

    `clock` is the time reservations expire by (tests pass one they can move). `registry` is one other
    components of this process record into too (`flyteplane start`); without one DataCatalog makes its
    own when `datacatalog.metrics_port` asks for an endpoint.
    """
    section = config.datacatalog
    if registry is None and section.metrics_port:
        registry = MetricsRegistry()
    db = await MIGRATIONS.connect(config.database_url("datacatalog", section.database_url), "datacatalog")
    watch_database(registry, db.engine, "datacatalog")
    managers = Managers.build(context_for(config, db, clock, registry))
    server = grpc.aio.server(
        interceptors=timed(registry, *traced(), ErrorInterceptor()),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    await add_health_and_reflection(server, add_service(server, managers))
    port = server.add_insecure_port(f"{section.host}:{section.grpc_port}")
    await server.start()
    log.info("datacatalog serving gRPC on %s:%d", section.host, port)
    metrics = None
    if registry is not None and section.metrics_port:
        metrics = serve_metrics(registry, section.host, section.metrics_port)
        log.info("datacatalog serving metrics on http://%s:%d/metrics", section.host, metrics.port)
    return DataCatalogServer(server, db, port, managers, metrics)
