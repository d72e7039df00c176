"""A real DataCatalog for tests: a migrated database of each kind, a local store, a free port and a movable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from datacatalog.db import MIGRATIONS
from datacatalog.server import DataCatalogServer, start_datacatalog
from flyteidl_py.datacatalog import datacatalog_pb2_grpc
from flyteplane.database import Database
from launcher.config import FlyteplaneConfig, load_config


@dataclass
class Clock:
    """The time reservations expire by; tests move it instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RunningCatalog:
    server: DataCatalogServer
    channel: grpc.aio.Channel
    stub: datacatalog_pb2_grpc.DataCatalogStub
    clock: Clock
    database_url: str
    store_root: Path


def catalog_config(database_url: str, data_dir: Path) -> FlyteplaneConfig:
    config = load_config(env={})
    return config.model_copy(
        update={
            "data_dir": data_dir,
            "datacatalog": config.datacatalog.model_copy(update={"grpc_port": 0, "database_url": database_url}),
            "storage": config.storage.model_copy(update={"local_root": data_dir / "store"}),
        }
    )


async def migrated(database_url: str) -> None:
    db = Database.connect(database_url)
    try:
        await MIGRATIONS.upgrade(db, database_url)
    finally:
        await db.dispose()


@pytest.fixture
async def catalog(database_url: str, tmp_path: Path) -> AsyncIterator[RunningCatalog]:
    """DataCatalog on loopback with a free port, `database_url` migrated and a local store under tmp_path."""
    await migrated(database_url)
    clock = Clock()
    server = await start_datacatalog(catalog_config(database_url, tmp_path), clock=clock)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield RunningCatalog(
            server, channel, datacatalog_pb2_grpc.DataCatalogStub(channel), clock, database_url, tmp_path / "store"
        )
    finally:
        await channel.close()
        await server.stop(0)


@pytest.fixture
def stub(catalog: RunningCatalog) -> datacatalog_pb2_grpc.DataCatalogStub:
    return catalog.stub
