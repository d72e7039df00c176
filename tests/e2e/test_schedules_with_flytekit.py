"""Schedules registered by real flytekit fire on time, once per tick, through scheduler processes on PostgreSQL.

`pyflyte register --activate-launchplans` registers a one-minute FixedRate and a `* * * * *` cron launch
plan (tests/e2e/schedules/minutely.py), each with a kickoff-time input. Two `flyteplane serve scheduler`
processes share one database; the test runs one timeline of two one-minute ticks (the smallest unit, so
the cases share their minutes):

1. both schedulers start and one takes the lease; it is killed (SIGKILL) before the first tick; the
   survivor takes over and fires each launch plan's first tick on time; the cron launch plan is
   deactivated and the survivor stopped;
2. with no scheduler running, the second fixed-rate tick passes; a scheduler started afterwards catches
   it up, and fires nothing for the deactivated cron launch plan.

Each tick's execution exists once (consecutive scheduled times, none twice), mode SCHEDULED, with the
tick in `scheduled_at` and in the kickoff input, and the launch plan's default or fixed input. Timing
is asserted only loosely ("within 30 s of the tick") so a slow machine does not fail it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flyteidl_py.admin import common_pb2, execution_pb2, launch_plan_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from scheduler.ticks import execution_name
from tests.support.admin import RunningAdmin, running_admin
from tests.support.flytekit import Flytekit
from tests.support.postgres import create_database
from tests.support.processes import ServedComponent, flyteplane_env

pytestmark = pytest.mark.asyncio
PROJECT, DOMAIN = "flytesnacks", "development"
RATE, CRON = "schedules.minutely.every_minute", "schedules.minutely.cron_minute"
MINUTE = timedelta(minutes=1)
ON_TIME = timedelta(seconds=30)


@dataclass(frozen=True)
class Fired:
    name: str
    launch_plan: str
    scheduled_at: datetime
    created_at: datetime


@dataclass
class Plane:
    admin: RunningAdmin
    stub: admin_pb2_grpc.AdminServiceStub
    schedulers: dict[str, ServedComponent]

    async def fired(self) -> list[Fired]:
        listed = await self.stub.ListExecutions(
            common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=1000
            )
        )
        found = []
        for execution in listed.executions:
            assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.SCHEDULED
            found.append(
                Fired(
                    execution.id.name,
                    execution.spec.launch_plan.name,
                    execution.spec.metadata.scheduled_at.ToDatetime(tzinfo=UTC),
                    execution.closure.created_at.ToDatetime(tzinfo=UTC),
                )
            )
        return sorted(found, key=lambda f: f.scheduled_at)

    async def ticks(self, launch_plan: str) -> list[Fired]:
        return [f for f in await self.fired() if f.launch_plan == launch_plan]

    async def until_ticks(self, launch_plan: str, count: int, seconds: float = 150) -> list[Fired]:
        deadline = time.monotonic() + seconds
        while len(found := await self.ticks(launch_plan)) < count:
            assert time.monotonic() < deadline, f"{launch_plan}: {len(found)} of {count} ticks fired"
            await asyncio.sleep(0.5)
        return found

    async def leader(self) -> str:
        """The owner id whose scheduler holds the lease (read from the log line it writes when it takes it)."""
        deadline = time.monotonic() + 30
        while True:
            for owner, served in self.schedulers.items():
                alive = served.process is not None and served.process.returncode is None
                if alive and f"scheduler {owner} is the active scheduler" in served.log.read_text():
                    return owner
            assert time.monotonic() < deadline, "no scheduler took the lease"
            await asyncio.sleep(0.5)


@pytest.fixture
async def plane(tmp_path: Path, postgres_base_url: str, flytekit_venv: Path) -> AsyncIterator[Plane]:
    from launcher.config import load_config
    from launcher.migrate import migrate

    url = create_database(postgres_base_url, f"schedules_{time.monotonic_ns() % 10**9}")
    async with running_admin(url, tmp_path / "admin") as admin:
        config = load_config(env={}).model_copy(update={"data_dir": tmp_path})
        await migrate(
            config.model_copy(update={"scheduler": config.scheduler.model_copy(update={"database_url": url})}),
            ("scheduler",),
            quiet=True,
        )
        schedulers = {}
        for owner in ("sched-a", "sched-b", "sched-c"):
            section = config.scheduler.model_copy(
                update={
                    "database_url": url,
                    "admin_endpoint": f"127.0.0.1:{admin.grpc_port}",
                    "owner_id": owner,
                    "lease_seconds": 3.0,
                }
            )
            env = flyteplane_env(config.model_copy(update={"scheduler": section}))
            schedulers[owner] = ServedComponent("scheduler", env, tmp_path / f"{owner}.log")
        running = Plane(admin, admin_pb2_grpc.AdminServiceStub(admin.channel), schedulers)
        try:
            yield running
        finally:
            for served in schedulers.values():
                await served.stop()


def lp_id(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=name, version="v1"
    )


def assert_each_tick_once(name: str, fired: list[Fired]) -> None:
    ticks = [f.scheduled_at for f in fired]
    assert len(set(ticks)) == len(ticks), ticks
    assert all(b - a == MINUTE for a, b in itertools.pairwise(ticks)), ticks
    assert all(f.name == execution_name(lp_id(name), f.scheduled_at) for f in fired)


async def test_minutely_schedules_fire_once_per_tick_across_a_killed_scheduler_and_catch_up(
    plane: Plane, flytekit_venv: Path, tmp_path: Path
) -> None:
    client = Flytekit.for_admin(flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path / "project")
    client.add_package(Path(__file__).with_name("schedules"), "schedules")
    await asyncio.gather(plane.schedulers["sched-a"].start(), plane.schedulers["sched-b"].start())
    await client.pyflyte(
        "register", "-p", PROJECT, "-d", DOMAIN, "--version", "v1", "--activate-launchplans", "schedules"
    )
    activated = datetime.now(UTC)

    # 1. The active scheduler is killed before the first tick; the survivor takes over and fires it on time.
    leader = await plane.leader()
    await plane.schedulers[leader].kill()
    survivor = next(o for o in ("sched-a", "sched-b") if o != leader)
    assert await plane.leader() == survivor
    rate = await plane.until_ticks(RATE, 1)
    cron = await plane.until_ticks(CRON, 1)
    assert activated < rate[0].scheduled_at <= activated + MINUTE + timedelta(seconds=1)
    assert cron[0].scheduled_at.second == 0 and activated < cron[0].scheduled_at <= activated + MINUTE
    await plane.stub.UpdateLaunchPlan(
        launch_plan_pb2.LaunchPlanUpdateRequest(id=lp_id(CRON), state=launch_plan_pb2.INACTIVE)
    )
    deactivated = datetime.now(UTC)
    await asyncio.sleep(2)  # the deactivation reaches the survivor within a second
    await plane.schedulers[survivor].stop()
    stopped = datetime.now(UTC)

    # 2. The second fixed-rate tick passes with no scheduler; the next scheduler catches it up.
    second = rate[0].scheduled_at + MINUTE
    await asyncio.sleep(max(0.0, (second - datetime.now(UTC)).total_seconds()) + 3)
    assert len(await plane.ticks(RATE)) == 1
    await plane.schedulers["sched-c"].start()
    restarted = datetime.now(UTC)
    rate = await plane.until_ticks(RATE, 2)
    assert rate[1].scheduled_at == second and rate[1].created_at >= restarted - timedelta(seconds=1)
    await asyncio.sleep(3)

    fired = await plane.fired()
    rate = [f for f in fired if f.launch_plan == RATE]
    cron = [f for f in fired if f.launch_plan == CRON]
    assert_each_tick_once(RATE, rate)
    assert_each_tick_once(CRON, cron)
    assert all(f.scheduled_at <= deactivated + timedelta(seconds=1) for f in cron)
    for f in [rate[0], *cron]:  # fired while a scheduler ran: on time
        assert f.scheduled_at <= f.created_at <= f.scheduled_at + ON_TIME, f
    assert stopped < second < rate[1].created_at
    for f in [rate[0], cron[0]]:
        data = await plane.stub.GetExecutionData(
            execution_pb2.WorkflowExecutionGetDataRequest(
                id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=f.name)
            )
        )
        inputs = data.full_inputs.literals
        assert inputs["kickoff"].scalar.primitive.datetime.ToDatetime(tzinfo=UTC) == f.scheduled_at
        assert inputs["label"].scalar.primitive.string_value == ("rate" if f.launch_plan == RATE else "cron")
    delays = [(f.created_at - f.scheduled_at).total_seconds() for f in [rate[0], *cron]]
    print(f"\nfiring delays of on-time ticks: {', '.join(f'{d:.2f}s' for d in delays)}")
