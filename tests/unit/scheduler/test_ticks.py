"""Due ticks and catch-up (Flyte's rule), execution names (Flyte's), and the request a tick becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flyteidl_py.admin import execution_pb2, schedule_pb2
from flyteidl_py.core import identifier_pb2
from flyteplane.schedules import FixedInterval, cadence, parse_cron
from scheduler.ticks import catch_up_from, due_ticks, execution_name, execution_request

T0 = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
LP = identifier_pb2.Identifier(
    resource_type=identifier_pb2.LAUNCH_PLAN, project="flytesnacks", domain="development", name="my.lp", version="v1"
)


def minutes(*values: int) -> list[datetime]:
    return [T0 + timedelta(minutes=v) for v in values]


def test_nothing_is_due_before_the_first_tick() -> None:
    assert due_ticks(parse_cron("* * * * *"), T0, T0 + timedelta(seconds=59)).ticks == []


def test_a_tick_is_due_at_its_time_exactly() -> None:
    assert due_ticks(parse_cron("* * * * *"), T0, T0 + timedelta(minutes=1)).ticks == minutes(1)


def test_after_downtime_every_missed_tick_is_due_oldest_first() -> None:
    due = due_ticks(parse_cron("* * * * *"), T0, T0 + timedelta(minutes=4, seconds=30))
    assert (due.ticks, due.skipped) == (minutes(1, 2, 3, 4), 0)


def test_catch_up_keeps_the_latest_ticks_up_to_its_limit() -> None:
    due = due_ticks(parse_cron("* * * * *"), T0, T0 + timedelta(minutes=10), limit=3)
    assert (due.ticks, due.skipped) == (minutes(8, 9, 10), 7)


def test_a_fixed_rate_counts_from_its_activation_then_from_its_last_tick() -> None:
    every = FixedInterval(timedelta(minutes=1))
    activated = T0 + timedelta(seconds=20)
    assert due_ticks(every, activated, T0 + timedelta(minutes=3)).ticks == [
        activated + timedelta(minutes=1),
        activated + timedelta(minutes=2),
    ]


def test_catch_up_starts_after_the_later_of_activation_and_the_last_fired_tick() -> None:
    assert catch_up_from(T0, None) == T0
    assert catch_up_from(T0, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=5)
    # Deactivated, then activated again later: the ticks in between are not caught up.
    assert catch_up_from(T0 + timedelta(hours=1), T0 + timedelta(minutes=5)) == T0 + timedelta(hours=1)


def test_the_execution_name_is_flytes_native_scheduler_name() -> None:
    # The value Go's hash/fnv (FNV-1, 64 bits) gives for "flytesnacks:development:my.lp:v1:1765000800",
    # laid out as Flyte's scheduler lays it out ("f" + 19 hex digits of the little-endian UUID bytes).
    assert execution_name(LP, datetime.fromtimestamp(1765000800, UTC)) == "ffdc90ee19e0d9cb6000"


def test_names_differ_per_tick_and_per_version_and_fit_admins_name_rule() -> None:
    names = {execution_name(LP, tick) for tick in minutes(1, 2, 3)}
    other = identifier_pb2.Identifier()
    other.CopyFrom(LP)
    other.version = "v2"
    names.add(execution_name(other, T0 + timedelta(minutes=1)))
    assert len(names) == 4
    assert all(len(n) == 20 and n[0] == "f" and n.isalnum() and n.islower() for n in names)


def test_a_tick_becomes_a_scheduled_execution_with_its_time_in_the_kickoff_input() -> None:
    tick = T0 + timedelta(minutes=1)
    request = execution_request(LP, tick, "kickoff")
    assert request.name == execution_name(LP, tick)
    assert (request.project, request.domain) == ("flytesnacks", "development")
    assert request.spec.launch_plan == LP
    assert request.spec.metadata.mode == execution_pb2.ExecutionMetadata.SCHEDULED
    assert request.spec.metadata.scheduled_at.ToDatetime(tzinfo=UTC) == tick
    assert request.inputs.literals["kickoff"].scalar.primitive.datetime.ToDatetime(tzinfo=UTC) == tick


def test_without_a_kickoff_input_no_input_is_sent() -> None:
    assert not execution_request(LP, T0, "").inputs.literals


def test_an_offset_cron_schedule_catches_up_on_shifted_ticks() -> None:
    when = cadence(schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="@hourly", offset="PT5M")))
    assert when is not None
    assert due_ticks(when, T0, T0 + timedelta(hours=2)).ticks == minutes(5, 65)
