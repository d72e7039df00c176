"""The scheduler against a real admin (SQLite and PostgreSQL, gRPC on loopback): ticks become executions once each.

Schedules here tick every two seconds (`@every 2s`, a constant delay as robfig's cron reads it) so the
behaviour that takes minutes with Flyte's one-minute granularity shows in seconds; the one-minute
schedules, registered by real flytekit, are in tests/e2e/test_schedules_with_flytekit.py.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flyteidl_py.admin import common_pb2, execution_pb2, launch_plan_pb2, schedule_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.config import LoggingConfig, TracingConfig
from flyteplane.database import Database
from flyteplane.tracing import configure_tracing, execution_trace_id, shutdown_tracing
from scheduler.admin_client import AdminClient
from scheduler.config import SchedulerConfig
from scheduler.db import MIGRATIONS
from scheduler.scheduler import Scheduler
from scheduler.store import SchedulerStore
from scheduler.ticks import execution_name
from tests.conftest import RunningAdmin
from tests.integration.admin.helpers import DOMAIN, PROJECT, lp_id, package, register
from tests.support.logs import captured_lines, json_entries

pytestmark = pytest.mark.asyncio
EVERY = timedelta(seconds=2)
SETTINGS = SchedulerConfig(poll_seconds=0.2, lease_seconds=1.5)


async def scheduled_launch_plan(
    stub: admin_pb2_grpc.AdminServiceStub, version: str, schedule: schedule_pb2.Schedule | None = None
) -> identifier_pb2.Identifier:
    """configured_wf (all inputs defaulted) as launch plan `sched` with `schedule`, registered and activated."""
    base = next(r for r in package().launch_plan_requests() if r.id.name == "examples.configured.configured_wf")
    request = launch_plan_pb2.LaunchPlanCreateRequest()
    request.CopyFrom(base)
    request.id.CopyFrom(lp_id("sched", version))
    request.spec.entity_metadata.schedule.CopyFrom(schedule or schedule_pb2.Schedule(cron_expression="@every 2s"))
    await stub.CreateLaunchPlan(request)
    await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=request.id, state=launch_plan_pb2.ACTIVE))
    return request.id


async def scheduled_at(stub: admin_pb2_grpc.AdminServiceStub) -> dict[str, datetime]:
    """Every scheduled execution's name and scheduled time."""
    listed = await stub.ListExecutions(
        common_pb2.ResourceListRequest(id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=1000)
    )
    found = {}
    for execution in listed.executions:
        assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.SCHEDULED
        found[execution.id.name] = execution.spec.metadata.scheduled_at.ToDatetime(tzinfo=UTC)
    return found


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


@asynccontextmanager
async def scheduler(admin: RunningAdmin, owner: str) -> AsyncIterator[Scheduler]:
    """A scheduler on admin's database (as replicas share one) with short polls and leases."""
    db = Database.connect(admin.database_url)
    await MIGRATIONS.upgrade(db, admin.database_url)
    client = AdminClient.connect(f"127.0.0.1:{admin.grpc_port}", admin.credential)
    running = Scheduler(SchedulerStore(db, owner), client, SETTINGS)
    running.start()
    try:
        yield running
    finally:
        await running.stop()
        await client.close()
        await db.dispose()


def crash(running: Scheduler) -> None:
    """Stop a scheduler as a kill would: its loops end, its lease stays until it expires."""
    for task in running._tasks:
        task.cancel()
    for job in running.jobs.values():
        if job.running is not None:
            job.running.cancel()


def assert_each_tick_once(ident: identifier_pb2.Identifier, fired: dict[str, datetime]) -> list[datetime]:
    """The executions are consecutive ticks, each under its deterministic name: none missing, none twice."""
    ticks = sorted(fired.values())
    assert len(set(ticks)) == len(ticks)
    assert all(later - earlier == EVERY for earlier, later in itertools.pairwise(ticks)), ticks
    assert all(name == execution_name(ident, tick) for name, tick in fired.items())
    return ticks


async def test_a_schedule_fires_each_tick_once_as_a_scheduled_execution(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    ident = await scheduled_launch_plan(stub, "v1")
    async with scheduler(admin, "a"):

        async def three_fired() -> bool:
            return len(await scheduled_at(stub)) >= 3

        await until(three_fired)
    fired = await scheduled_at(stub)
    ticks = assert_each_tick_once(ident, fired)
    assert all(tick.microsecond == 0 for tick in ticks)
    # The launch plan's default input reached the execution through admin.
    launch = admin.engine.launches[0]
    assert launch.spec.metadata.scheduled_at.ToDatetime(tzinfo=UTC) == ticks[0]


async def test_two_schedulers_fire_each_tick_once_and_the_survivor_takes_over_a_killed_one(
    admin: RunningAdmin,
) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    ident = await scheduled_launch_plan(stub, "v1")
    async with scheduler(admin, "a") as first, scheduler(admin, "b") as second:
        await until(lambda: _leading(first, second))
        leader, survivor = (first, second) if first.leading else (second, first)

        async def fired_at_least(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return len(await scheduled_at(stub)) >= count

            return check

        await until(await fired_at_least(2))
        crash(leader)
        before = len(await scheduled_at(stub))
        await until(lambda: _leading(survivor))
        await until(await fired_at_least(before + 3))
    assert_each_tick_once(ident, await scheduled_at(stub))


async def _leading(*schedulers: Scheduler) -> bool:
    return any(s.leading for s in schedulers)


async def test_missed_ticks_are_caught_up_after_the_scheduler_was_stopped(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    ident = await scheduled_launch_plan(stub, "v1")

    async def fired_any() -> bool:
        return len(await scheduled_at(stub)) >= 1

    async with scheduler(admin, "a"):
        await until(fired_any)
    last_before = max((await scheduled_at(stub)).values())
    await asyncio.sleep(5)  # two ticks or more pass with no scheduler running
    restarted = datetime.now(UTC)
    async with scheduler(admin, "b"):

        async def caught_up() -> bool:
            return max((await scheduled_at(stub)).values()) >= restarted - EVERY

        await until(caught_up)
    ticks = assert_each_tick_once(ident, await scheduled_at(stub))
    missed = [t for t in ticks if last_before < t < restarted - timedelta(seconds=1)]
    assert len(missed) >= 2


async def test_deactivating_stops_and_replacing_the_version_moves_the_schedule_within_a_second(
    admin: RunningAdmin,
) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    v1 = await scheduled_launch_plan(stub, "v1")
    async with scheduler(admin, "a"):

        async def fired(ident: identifier_pb2.Identifier) -> set[datetime]:
            all_fired = await scheduled_at(stub)
            return {tick for name, tick in all_fired.items() if name == execution_name(ident, tick)}

        async def v1_fired() -> bool:
            return len(await fired(v1)) >= 1

        await until(v1_fired)
        v2 = await scheduled_launch_plan(stub, "v2")  # activating v2 deactivates v1
        replaced = datetime.now(UTC)

        async def v2_fired() -> bool:
            return len(await fired(v2)) >= 2

        await until(v2_fired)
        assert all(tick <= replaced + timedelta(seconds=1) for tick in await fired(v1))
        await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=v2, state=launch_plan_pb2.INACTIVE))
        deactivated = datetime.now(UTC)
        await asyncio.sleep(4)
        assert all(tick <= deactivated + timedelta(seconds=1) for tick in await fired(v2))


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        (schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=0)), "spec.entity_metadata.schedule.rate.value"),
        (
            schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=5, unit=7)),
            "spec.entity_metadata.schedule.rate.unit",
        ),
        (
            schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="0 0 30 2 *")),
            "spec.entity_metadata.schedule.cron_schedule.schedule",
        ),
        (
            schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="@hourly", offset="10 minutes")),
            "spec.entity_metadata.schedule.cron_schedule.offset",
        ),
        (schedule_pb2.Schedule(cron_expression="* * *"), "spec.entity_metadata.schedule.cron_expression"),
    ],
)
async def test_an_invalid_schedule_is_refused_at_registration_naming_the_field(
    admin: RunningAdmin, schedule: schedule_pb2.Schedule, field: str
) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await scheduled_launch_plan(stub, "bad", schedule)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (refused.value.details() or "")


async def test_activating_a_version_stored_with_an_invalid_schedule_is_refused_naming_the_field(
    admin: RunningAdmin,
) -> None:
    from sqlalchemy import select

    from admin.models import LaunchPlan

    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    ident = await scheduled_launch_plan(stub, "old")
    await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=launch_plan_pb2.INACTIVE))
    # A version registered before schedules were checked: its stored rate is zero.
    db = Database.connect(admin.database_url)
    try:
        async with db.session() as session:
            row = (await session.scalars(select(LaunchPlan).where(LaunchPlan.version == "old"))).one()
            spec = launch_plan_pb2.LaunchPlanSpec.FromString(row.spec)
            spec.entity_metadata.schedule.CopyFrom(schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=0)))
            row.spec = spec.SerializeToString()
    finally:
        await db.dispose()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=launch_plan_pb2.ACTIVE))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "spec.entity_metadata.schedule.rate.value" in (refused.value.details() or "")
    got = await stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=ident))  # still inactive
    assert got.closure.state == launch_plan_pb2.INACTIVE


async def test_the_schedule_feed_answers_unchanged_until_the_active_set_changes(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    feed = AdminClient.connect(f"127.0.0.1:{admin.grpc_port}", admin.credential)
    try:
        await register(stub)
        empty = await feed.list_schedules("")
        assert not empty.schedules and not empty.unchanged
        v1 = await scheduled_launch_plan(stub, "v1")
        first = await feed.list_schedules(empty.revision)
        assert [s.id.version for s in first.schedules] == ["v1"] and not first.unchanged
        assert first.schedules[0].schedule.cron_expression == "@every 2s"
        again = await feed.list_schedules(first.revision)
        assert again.unchanged and not again.schedules and again.revision == first.revision
        await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=v1, state=launch_plan_pb2.ACTIVE))
        assert (await feed.list_schedules(first.revision)).unchanged  # activating the active version changes nothing
        await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=v1, state=launch_plan_pb2.INACTIVE))
        gone = await feed.list_schedules(first.revision)
        assert not gone.unchanged and not gone.schedules
    finally:
        await feed.close()


async def test_a_firing_is_logged_with_the_execution_it_creates(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    ident = await scheduled_launch_plan(stub, "v1")
    with captured_lines(LoggingConfig(format="json")) as lines:
        async with scheduler(admin, "logged"):

            async def fired() -> bool:
                return len(await scheduled_at(stub)) >= 1

            await until(fired)
    first = min(await scheduled_at(stub), key=lambda name: name)
    entries = [e for e in json_entries(lines) if e["message"].startswith("scheduler fired")]
    assert entries, json_entries(lines)
    by_execution = {e["execution"]: e for e in entries}
    assert first in by_execution
    line = by_execution[first]
    assert (line["project"], line["domain"]) == (PROJECT, DOMAIN)
    assert f"{ident.name}@{ident.version}" in line["message"]


async def test_a_firing_is_traced_in_the_trace_derived_from_the_execution_it_creates(admin: RunningAdmin) -> None:
    """So the execution's trace id is the one a console computes from its id (flyteplane.tracing.execution_trace_id)."""
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    await scheduled_launch_plan(stub, "v1")
    exporter = InMemorySpanExporter()
    configure_tracing(TracingConfig(), env={}, processor=SimpleSpanProcessor(exporter))
    try:
        async with scheduler(admin, "traced"):

            async def fired() -> bool:
                return len(await scheduled_at(stub)) >= 1

            await until(fired)
    finally:
        shutdown_tracing()
    firings = [s for s in exporter.get_finished_spans() if s.name == "scheduler fire"]
    assert firings
    for firing in firings:
        assert firing.context is not None and firing.parent is None
        attributes = firing.attributes or {}
        expected = execution_trace_id(PROJECT, DOMAIN, str(attributes["flyte.execution"]))
        assert f"{firing.context.trace_id:032x}" == expected
