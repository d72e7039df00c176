"""Leases in propeller's store: what a live engine takes over from one that stopped renewing its leases,
and what it does not: its own executions, even one that ends while its lease is being renewed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2
from flyteplane.database import Database
from propeller.db import MIGRATIONS
from propeller.status import WorkflowPhase
from propeller.store import LeaseLost, Store
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_task
from tests.support.plane import plane_config, running_plane

EXECUTION = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name="e1")
SHORT_LEASE = 0.2
SLEEP = {"factories": {"sleep": "tests.support.plugin_doubles:sleep"}, "backends": {"sleep": {"seconds": 1.5}}}


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


async def test_an_execution_that_ends_while_its_lease_is_renewed_is_not_taken_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The renewal reads the execution as ours and unfinished, and returns only after it ended (the engine
    # renews leases while its rounds run): a finished execution of our own is not one taken over.
    caplog.set_level(logging.INFO, logger="flyteplane.propeller")
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=SLEEP
    )
    async with running_plane(config) as plane:
        sleep = echo_task("sleep.int")
        sleep.spec.template.type = "sleep"
        await register(plane.stub, [sleep, *chain("sleepy1", 1, task="sleep.int")])
        store = plane.propeller.engine.store
        renew, ended, returned = store.claim, asyncio.Event(), asyncio.Event()

        async def renewal_outlived_by_its_execution(limit: int = 1000) -> list[int]:
            claimed = await renew(limit)
            if claimed and not ended.is_set():
                await ended.wait()
                returned.set()
            return claimed

        store.claim = renewal_outlived_by_its_execution  # type: ignore[method-assign]
        execution = await launch(plane.stub, "sleepy1", ints(x=1))
        done = await wait(plane.stub, execution, limit=30)
        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED
        assert not returned.is_set()
        ended.set()
        await asyncio.wait_for(returned.wait(), 5)
        await asyncio.sleep(0.1)
    assert "took over" not in caplog.text


async def test_a_round_saved_after_its_lease_was_taken_over_is_refused_and_changes_nothing(db: Database) -> None:
    dead, alive = Store(db, "dead", SHORT_LEASE), Store(db, "alive", 30)
    record = await launched(dead)
    state = await dead.load(record)
    state.emit("workflow", b"first")
    await dead.save(state)  # while its lease holds: saved
    await asyncio.sleep(SHORT_LEASE * 2)
    assert await alive.claim() == [record]
    state.phase = WorkflowPhase.SUCCEEDED
    state.emit("workflow", b"late")
    with pytest.raises(LeaseLost):
        await dead.save(state)
    found = await alive.find(EXECUTION)
    assert (found.owner, found.terminal) == ("alive", False)
    pending = await alive.pending_events(record)
    assert [e.payload for e in pending] == [b"first"]
    await alive.ack([e.id for e in pending])  # delivered: gone
    assert await alive.pending_events(record) == []
