"""Fixtures shared by every kind of test: databases (SQLite and a real PostgreSQL) and a running admin."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from tests.support.postgres import create_database, postgres_server

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    base: str = request.getfixturevalue("postgres_base_url")
    return create_database(base, f"t{next(_counter)}_{abs(hash(request.node.nodeid)) % 10**8}")


@dataclass
class RunningAdmin:
    server: object
    channel: grpc.aio.Channel
    grpc_port: int
    http_port: int
    engine: object
    database_url: str
    storage_root: Path


@pytest.fixture
async def admin(database_url: str, tmp_path: Path) -> AsyncIterator[RunningAdmin]:
    """Admin on loopback with free ports, a migrated database and a local store.

    Its engine is admin's in-process RecordingEngine: these tests exercise admin alone, so launches
    are recorded rather than run (propeller's own tests run them for real).
    """
    from admin.db import MIGRATIONS
    from admin.engine import RecordingEngine
    from admin.server import start_admin
    from flyteplane.config import load_config
    from flyteplane.database import Database

    root = tmp_path / "store"
    config = load_config(env={}).model_copy(
        update={
            "data_dir": tmp_path,
        }
    )
    config = config.model_copy(
        update={
            "admin": config.admin.model_copy(update={"grpc_port": 0, "http_port": 0, "database_url": database_url}),
            "storage": config.storage.model_copy(update={"local_root": root}),
        }
    )
    db = Database.connect(database_url)
    await MIGRATIONS.upgrade(db, database_url)
    await db.dispose()
    engine = RecordingEngine()
    server = await start_admin(config, engine)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    try:
        yield RunningAdmin(server, channel, server.grpc_port, server.http_port, engine, database_url, root)
    finally:
        await channel.close()
        await server.stop(0)
