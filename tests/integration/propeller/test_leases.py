"""Leases in propeller's store: what a live engine takes over from one that stopped renewing its leases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2
from flyteplane.database import Database
from propeller.db import MIGRATIONS
from propeller.status import WorkflowPhase
from propeller.store import Store

EXECUTION = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name="e1")
SHORT_LEASE = 0.2


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path}/propeller.db"
    database = Database.connect(url)
    await MIGRATIONS.upgrade(database, url)
    try:
        yield database
    finally:
        await database.dispose()


async def launched(store: Store) -> int:
    return await store.create(engine_pb2.LaunchRequest(execution_id=EXECUTION))


async def test_a_running_execution_is_taken_over_once_its_owners_lease_runs_out(db: Database) -> None:
    dead, alive = Store(db, "dead", SHORT_LEASE), Store(db, "alive", 30)
    record = await launched(dead)
    assert await alive.claim() == []
    await asyncio.sleep(SHORT_LEASE * 2)
    assert await alive.claim() == [record]
    assert (await alive.find(EXECUTION)).owner == "alive"
    assert await dead.claim() == []


async def test_the_undelivered_events_of_a_finished_execution_are_taken_over_with_it(db: Database) -> None:
    # The owner finished the execution and saved its events, then died before admin had them.
    dead, alive = Store(db, "dead", SHORT_LEASE), Store(db, "alive", 30)
    record = await launched(dead)
    state = await dead.load(record)
    state.phase = WorkflowPhase.SUCCEEDED
    state.emit("workflow", b"event")
    await dead.save(state)
    assert await alive.with_pending_events() == [], "taken while the owner's lease held"
    await asyncio.sleep(SHORT_LEASE * 2)
    assert await alive.claim() == [], "a finished execution has nothing left to run"
    assert await alive.with_pending_events() == [record]
    assert [e.payload for e in await alive.pending_events(record)] == [b"event"]
    assert await dead.with_pending_events() == []
