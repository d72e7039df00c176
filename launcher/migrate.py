"""Creating and upgrading the components' database schemas (`flyteplane migrate`, and `start` before it serves)."""

from __future__ import annotations

from collections.abc import Sequence

from admin.db import MIGRATIONS as ADMIN
from datacatalog.db import MIGRATIONS as DATACATALOG
from flyteplane.database import Database, Migrations
from launcher.config import FlyteplaneConfig
from propeller.db import MIGRATIONS as PROPELLER
from scheduler.db import MIGRATIONS as SCHEDULER

COMPONENTS = ("admin", "propeller", "datacatalog", "scheduler")


def migrations(config: FlyteplaneConfig) -> dict[str, tuple[Migrations, str]]:
    """Each component's migrations and database URL."""
    return {
        "admin": (ADMIN, config.database_url("admin", config.admin.database_url)),
        "propeller": (PROPELLER, config.database_url("propeller", config.propeller.database_url)),
        "datacatalog": (DATACATALOG, config.database_url("datacatalog", config.datacatalog.database_url)),
        "scheduler": (SCHEDULER, config.database_url("scheduler", config.scheduler.database_url)),
    }


async def migrate(config: FlyteplaneConfig, components: Sequence[str] = COMPONENTS, *, quiet: bool = False) -> None:
    for component in components:
        scripts, url = migrations(config)[component]
        db = Database.connect(url)
        try:
            await scripts.upgrade(db, url)
            if not quiet:
                print(f"{component} schema at {await scripts.current(db)} ({url.split('@')[-1]})")
        finally:
            await db.dispose()
