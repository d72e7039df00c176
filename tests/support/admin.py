"""A real admin for tests: migrated database, local store, free loopback ports and a RecordingEngine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc


@dataclass
class RunningAdmin:
    server: object
    channel: grpc.aio.Channel
    grpc_port: int
    http_port: int
    engine: object
    database_url: str
    storage_root: Path
    credential: str = ""  # the plane credential admin's engine-only RPCs (and, with auth on, the plane) present


@asynccontextmanager
async def running_admin(database_url: str, data_dir: Path, **admin: Any) -> AsyncIterator[RunningAdmin]:
    """Admin on loopback with free ports, `database_url` migrated and a local store under `data_dir`.

    `admin` sets fields of its configuration section (say `notifications=NotificationsConfig(...)`).

    Its engine is admin's in-process RecordingEngine: these tests exercise admin alone, so launches
    are recorded rather than run (propeller's own tests run them for real).
    """
    from admin.db import MIGRATIONS
    from admin.engine import RecordingEngine
    from admin.server import start_admin
    from flyteplane.credentials import presenting
    from flyteplane.database import Database
    from launcher.config import load_config

    root = data_dir / "store"
    config = load_config(env={}).model_copy(update={"data_dir": data_dir})
    config = config.model_copy(
        update={
            "admin": config.admin.model_copy(
                update={"grpc_port": 0, "http_port": 0, "database_url": database_url, **admin}
            ),
            "storage": config.storage.model_copy(update={"local_root": root}),
        }
    )
    db = Database.connect(database_url)
    await MIGRATIONS.upgrade(db, database_url)
    await db.dispose()
    engine = RecordingEngine()
    server = await start_admin(config, engine)
    # These tests play the engine's part too (they send events): the channel presents the plane credential.
    credential = config.plane_credential()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}", interceptors=presenting(credential))
    try:
        yield RunningAdmin(server, channel, server.grpc_port, server.http_port, engine, database_url, root, credential)
    finally:
        await channel.close()
        await server.stop(0)
