"""Running the scheduler: its database, its admin connection and its loop (it serves no API of its own)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flyteplane.database import Database
from scheduler.admin_client import AdminClient
from scheduler.config import SchedulerPlaneConfig
from scheduler.db import MIGRATIONS
from scheduler.scheduler import Scheduler, default_owner
from scheduler.store import SchedulerStore

log = logging.getLogger("flyteplane.scheduler")


@dataclass
class SchedulerServer:
    scheduler: Scheduler
    db: Database
    admin: AdminClient

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.admin.close()
        await self.db.dispose()


async def start_scheduler(config: SchedulerPlaneConfig, *, admin_endpoint: str | None = None) -> SchedulerServer:
    """Start the scheduler against admin (`admin_endpoint`, default: the configured one); the database must be
    migrated. It fires only while it holds the lease, so any number may run on one database."""
    settings = config.scheduler
    db = await MIGRATIONS.connect(config.database_url("scheduler", settings.database_url), "scheduler")
    endpoint = admin_endpoint or settings.admin_endpoint
    admin = AdminClient.connect(endpoint)
    scheduler = Scheduler(SchedulerStore(db, settings.owner_id or default_owner()), admin, settings)
    scheduler.start()
    log.info("scheduler %s firing schedules through admin at %s", scheduler.store.owner, endpoint)
    return SchedulerServer(scheduler, db, admin)
