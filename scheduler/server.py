"""Running the scheduler: its database, its admin connection and its loop (it serves no API of its own)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from flyteplane.database import Database
from flyteplane.metrics import MetricsEndpoint, MetricsRegistry, serve_metrics, watch_database
from scheduler.admin_client import AdminClient
from scheduler.config import SchedulerPlaneConfig
from scheduler.db import MIGRATIONS
from scheduler.scheduler import Scheduler, SchedulerMetrics, default_owner
from scheduler.store import SchedulerStore

log = logging.getLogger("flyteplane.scheduler")


@dataclass
class SchedulerServer:
    scheduler: Scheduler
    db: Database
    admin: AdminClient
    metrics: MetricsEndpoint | None = None

    async def stop(self) -> None:
        if self.metrics is not None:
            await self.metrics.stop()
        await self.scheduler.stop()
        await self.admin.close()
        await self.db.dispose()


async def start_scheduler(
    config: SchedulerPlaneConfig, *, admin_endpoint: str | None = None, registry: MetricsRegistry | None = None
) -> SchedulerServer:
    """Start the scheduler against admin (`admin_endpoint`, default: the configured one); the database must be
    migrated. It fires only while it holds the lease, so any number may run on one database.

    `registry` is one other components of this process record into too (`flyteplane start`); without one
    the scheduler makes its own when `scheduler.metrics_port` asks for an endpoint."""
    settings = config.scheduler
    if registry is None and settings.metrics_port:
        registry = MetricsRegistry()
    db = await MIGRATIONS.connect(config.database_url("scheduler", settings.database_url), "scheduler")
    watch_database(registry, db.engine, "scheduler")
    endpoint = admin_endpoint or settings.admin_endpoint
    admin = AdminClient.connect(endpoint, await asyncio.to_thread(config.plane_credential))
    scheduler = Scheduler(
        SchedulerStore(db, settings.owner_id or default_owner()),
        admin,
        settings,
        metrics=SchedulerMetrics(registry) if registry is not None else None,
    )
    scheduler.start()
    log.info("scheduler %s firing schedules through admin at %s", scheduler.store.owner, endpoint)
    metrics = None
    if registry is not None and settings.metrics_port:
        metrics = serve_metrics(registry, settings.host, settings.metrics_port)
        log.info("scheduler serving metrics on http://%s:%d/metrics", settings.host, metrics.port)
    return SchedulerServer(scheduler, db, admin, metrics)
