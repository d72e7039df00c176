"""Two propeller processes on one PostgreSQL database share the work; killing one, the other finishes it.

Admin lists both engines and spreads launches over them round-robin. Echo tasks make quick
executions; `sleep` tasks (tests/support/plugin_doubles.py, loaded through `plugins.factories`)
keep some running long enough to kill their engine with SIGKILL under them. The survivor takes
them over once their lease runs out, continues the same task attempts, and finishes them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.propeller.helpers import ints, launch, outputs, register, wait
from tests.support.echo import chain, echo_task, fan_out
from tests.support.paths import REPO_ROOT
from tests.support.plane import plane_config
from tests.support.postgres import create_database, free_port
from tests.support.processes import ServedComponent, flyteplane_env

SLEEP_SECONDS = 4.0
PLUGINS = {
    "factories": {"sleep": "tests.support.plugin_doubles:sleep"},
    "backends": {"sleep": {"seconds": SLEEP_SECONDS}},
}


@dataclass
class SharedEngines:
    stub: admin_pb2_grpc.AdminServiceStub
    engines: dict[str, ServedComponent]  # owner id -> its process
    metrics_ports: dict[str, int]
    propeller_url: str

    async def owners(self) -> dict[str, tuple[str, bool]]:
        """Execution name -> (owner, finished), as the engines' shared table records them."""
        from flyteplane.database import Database
        from propeller.models import WorkflowRecord

        db = Database.connect(self.propeller_url)
        try:
            async with db.session() as session:
                rows = await session.execute(select(WorkflowRecord.name, WorkflowRecord.owner, WorkflowRecord.terminal))
                return {name: (owner, terminal) for name, owner, terminal in rows}
        finally:
            await db.dispose()


def sleep_task() -> object:
    request = echo_task("sleep.int")
    request.spec.template.type = "sleep"
    return request


@pytest.fixture
async def shared(tmp_path: Path, postgres_base_url: str) -> AsyncIterator[SharedEngines]:
    from admin.server import start_admin
    from launcher.migrate import migrate

    suffix = f"{time.monotonic_ns() % 10**9}"
    admin_url = create_database(postgres_base_url, f"shared_admin_{suffix}")
    propeller_url = create_database(postgres_base_url, f"shared_propeller_{suffix}")
    base = plane_config(tmp_path, admin_url, propeller_url, plugins=PLUGINS)
    ports = {"engine-a": free_port(), "engine-b": free_port()}
    metrics_ports = {"engine-a": free_port(), "engine-b": free_port()}
    engines: dict[str, ServedComponent] = {}
    for owner, port in ports.items():
        config = base.model_copy(
            update={
                "propeller": base.propeller.model_copy(
                    update={
                        "grpc_port": port,
                        "owner_id": owner,
                        "lease_seconds": 3.0,
                        "resync_seconds": 1.0,
                        "datacatalog_endpoint": None,
                        "metrics_port": metrics_ports[owner],
                    }
                )
            }
        )
        env = flyteplane_env(config)
        env["PYTHONPATH"] = str(REPO_ROOT)  # the plugin doubles live in tests/
        engines[owner] = ServedComponent("propeller", env, tmp_path / f"{owner}.log")
    endpoints = ",".join(f"127.0.0.1:{port}" for port in ports.values())
    config = base.model_copy(update={"admin": base.admin.model_copy(update={"engine_endpoint": endpoints})})
    await migrate(config, ("admin", "propeller"), quiet=True)
    await asyncio.gather(*(engine.start() for engine in engines.values()))
    admin = await start_admin(config)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}")
    stub = admin_pb2_grpc.AdminServiceStub(channel)
    await register(stub, [echo_task(), sleep_task(), *chain("chain4", 4), *fan_out("fan6", 6)])
    await register(stub, chain("sleepy2", 2, task="sleep.int"))
    try:
        yield SharedEngines(stub, engines, metrics_ports, propeller_url)
    finally:
        await channel.close()
        await admin.stop(0)
        for engine in engines.values():
            await engine.stop()


async def task_attempts(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier, node: str
) -> list[tuple[int, int]]:
    found = await stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=node), limit=10
        )
    )
    return [(t.id.retry_attempt, t.closure.phase) for t in found.task_executions]


async def test_the_surviving_engine_finishes_the_executions_of_a_killed_one(shared: SharedEngines) -> None:
    stub = shared.stub
    began = time.monotonic()
    slow = [await launch(stub, "sleepy2", ints(x=100 + i)) for i in range(4)]
    quick = [await launch(stub, "chain4" if i % 2 else "fan6", ints(x=i)) for i in range(10)]

    # Both engines took launches, and each owns slow executions that are still running.
    owners = await shared.owners()
    assert {owners[e.name][0] for e in quick} == set(shared.engines)
    running = {e.name: owners[e.name][0] for e in slow if not owners[e.name][1]}
    assert set(running.values()) == set(shared.engines), owners
    victim = running[slow[0].name]
    survivor = next(owner for owner in shared.engines if owner != victim)
    killed_at = time.monotonic()
    await shared.engines[victim].kill()
    # What the victim owned unfinished when it died (it may have finished some since the look above): looked at
    # after the kill, before its leases run out and the survivor takes them over.
    owners = await shared.owners()
    orphans = [name for name, (owner, finished) in owners.items() if owner == victim and not finished]
    orphaned_slow = [e for e in slow if e.name in orphans]

    # Launches now skip the dead engine.
    late = [await launch(stub, "chain4", ints(x=50 + i)) for i in range(2)]
    for expected, execution in [*enumerate(quick), *((50 + i, e) for i, e in enumerate(late))]:
        done = await wait(stub, execution, limit=60)
        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, (execution.name, done.closure.error)
        assert (await outputs(stub, execution)).literals["x"].scalar.primitive.integer == expected
    for i, execution in enumerate(slow):
        done = await wait(stub, execution, limit=120)
        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, (execution.name, done.closure.error)
        assert (await outputs(stub, execution)).literals["x"].scalar.primitive.integer == 100 + i
        for node in ("n0", "n1"):
            # One attempt each: the survivor continued the dead engine's attempt, it did not start another.
            assert await task_attempts(stub, execution, node) == [(0, core.TaskExecution.SUCCEEDED)]
    all_done = time.monotonic() - killed_at
    owners = await shared.owners()
    assert {owners[name][0] for name in [*orphans, *(e.name for e in late)]} == {survivor}
    assert all(finished for _, finished in owners.values())

    async with httpx.AsyncClient() as client:
        scraped = (await client.get(f"http://127.0.0.1:{shared.metrics_ports[survivor]}/metrics")).text
    taken_over = next(
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "flyteplane_propeller_executions_taken_over_total"
    )
    assert taken_over >= len(orphans)
    print(
        f"\n{len(quick) + len(slow) + len(late)} executions; {len(orphans)} unfinished on the killed engine "
        f"({len(orphaned_slow)} slow), all done {all_done:.1f}s after the kill; {time.monotonic() - began:.1f}s in all"
    )


async def test_an_abort_sent_to_either_engine_stops_the_execution_where_it_runs(shared: SharedEngines) -> None:
    stub = shared.stub
    # Launches and aborts share admin's round-robin: the first launch goes to one engine and the
    # second to the other; the aborts below, in the reverse order, then reach the engine that does
    # not own the execution, which records the request for the owner.
    first = await launch(stub, "sleepy2", ints(x=1))
    second = await launch(stub, "sleepy2", ints(x=2))
    owners = await shared.owners()
    assert owners[first.name][0] != owners[second.name][0]
    for execution in (second, first):
        await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution, cause="enough"))
    for execution in (first, second):
        done = await wait(stub, execution, limit=30)
        assert done.closure.phase == core.WorkflowExecution.ABORTED
        assert done.closure.abort_metadata.cause == "enough"
