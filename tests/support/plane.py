"""Admin and propeller together, in this process on loopback ports, sharing one local store.

The two talk only over gRPC, exactly as separate processes would: admin launches through the
engine API, propeller reports through AdminService events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from flyteidl_py.service import admin_pb2_grpc
from tests.support.postgres import free_port


@dataclass
class RunningPlane:
    admin: Any
    propeller: Any
    channel: grpc.aio.Channel
    config: Any

    @property
    def stub(self) -> admin_pb2_grpc.AdminServiceStub:
        return admin_pb2_grpc.AdminServiceStub(self.channel)


def plane_config(data_dir: Path, admin_db: str, propeller_db: str, *, plugins: dict[str, Any] | None = None) -> Any:
    from launcher.config import load_config
    from plugins.config import PluginsConfig

    admin_port, engine_port, catalog_port = free_port(), free_port(), free_port()
    config = load_config(env={}).model_copy(update={"data_dir": data_dir})
    return config.model_copy(
        update={
            "admin": config.admin.model_copy(
                update={
                    "grpc_port": admin_port,
                    "http_port": 0,
                    "database_url": admin_db,
                    "engine_endpoint": f"127.0.0.1:{engine_port}",
                }
            ),
            "propeller": config.propeller.model_copy(
                update={
                    "grpc_port": engine_port,
                    "database_url": propeller_db,
                    "admin_endpoint": f"127.0.0.1:{admin_port}",
                    "resync_seconds": 1.0,
                    "datacatalog_endpoint": f"127.0.0.1:{catalog_port}",
                    "cache_reservation_heartbeat_seconds": 1.0,
                    "plugins": PluginsConfig.model_validate(plugins or {}),
                }
            ),
            "datacatalog": config.datacatalog.model_copy(
                update={"grpc_port": catalog_port, "database_url": f"sqlite:///{data_dir}/datacatalog.db"}
            ),
            "storage": config.storage.model_copy(update={"local_root": data_dir / "store"}),
        }
    )


def local_plane_config(directory: Path, flytekit_venv: Path, **local: Any) -> Any:
    """`plane_config` on SQLite in `directory`, task processes in the flytekit virtualenv (plus `local` settings)."""
    backend = {"default_environment": {"venv": str(flytekit_venv.parent)}, "work_dir": str(directory / "local-tasks")}
    return plane_config(
        directory,
        f"sqlite:///{directory}/admin.db",
        f"sqlite:///{directory}/propeller.db",
        plugins={"backends": {"local": {**backend, **local}}},
    )


@asynccontextmanager
async def running_plane(config: Any, *, migrate: bool = True) -> AsyncIterator[RunningPlane]:
    from admin.server import start_admin
    from datacatalog.server import start_datacatalog
    from launcher.cache import catalog_endpoint, explainer
    from launcher.migrate import migrate as run_migrations
    from propeller.server import start_propeller

    if migrate:
        await run_migrations(config, quiet=True)
    catalog = await start_datacatalog(config)
    propeller = await start_propeller(config)
    admin = await start_admin(
        config, cache_explainer=explainer(catalog_endpoint(config, catalog.port), config.plane_credential())
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}")
    try:
        yield RunningPlane(admin, propeller, channel, config)
    finally:
        await channel.close()
        await admin.stop(0)
        await propeller.stop(0)
        await catalog.stop(0)
