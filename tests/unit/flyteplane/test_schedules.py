"""Schedule expressions: which are valid (and the field an invalid one is refused under), and when they fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flyteidl_py.admin import schedule_pb2
from flyteplane.errors import InvalidArgument
from flyteplane.schedules import cadence, parse_cron, parse_offset

T0 = datetime(2026, 12, 6, 4, 30, 15, tzinfo=UTC)  # a Sunday


def fires(expression: str, start: datetime = T0, count: int = 3) -> list[datetime]:
    when = parse_cron(expression)
    ticks, moment = [], start
    for _ in range(count):
        moment = when.next_after(moment)
        ticks.append(moment)
    return ticks


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_every_minute_fires_at_the_start_of_each_following_minute() -> None:
    assert fires("* * * * *") == [utc(2026, 12, 6, 4, 31), utc(2026, 12, 6, 4, 32), utc(2026, 12, 6, 4, 33)]


def test_a_tick_is_strictly_after_the_moment_asked_about() -> None:
    assert parse_cron("* * * * *").next_after(utc(2026, 12, 6, 4, 31)) == utc(2026, 12, 6, 4, 32)


@pytest.mark.parametrize(
    ("expression", "first", "second"),
    [
        ("*/5 * * * *", utc(2026, 12, 6, 4, 35), utc(2026, 12, 6, 4, 40)),
        ("5/15 * * * *", utc(2026, 12, 6, 4, 35), utc(2026, 12, 6, 4, 50)),  # N/step is N-max/step
        ("0 9 * * MON-FRI", utc(2026, 12, 7, 9), utc(2026, 12, 8, 9)),
        ("0 0 1 JAN,JUL ?", utc(2027, 1, 1), utc(2027, 7, 1)),
        ("0 0 29 2 *", utc(2028, 2, 29), utc(2032, 2, 29)),
        ("0 12 13 * 5", utc(2026, 12, 11, 12), utc(2026, 12, 13, 12)),  # day of month OR day of week
        ("CRON_TZ=Europe/Paris 0 9 * * *", utc(2026, 12, 6, 8), utc(2026, 12, 7, 8)),
    ],
)
def test_standard_five_field_expressions(expression: str, first: datetime, second: datetime) -> None:
    assert fires(expression, count=2) == [first, second]


@pytest.mark.parametrize(
    ("alias", "first"),
    [
        ("@hourly", utc(2026, 12, 6, 5)),
        ("hourly", utc(2026, 12, 6, 5)),  # flytekit's CronSchedule sends its aliases without the @
        ("@daily", utc(2026, 12, 7)),
        ("@midnight", utc(2026, 12, 7)),
        ("days", utc(2026, 12, 7)),
        ("@weekly", utc(2026, 12, 13)),
        ("@monthly", utc(2027, 1, 1)),
        ("@yearly", utc(2027, 1, 1)),
        ("@annually", utc(2027, 1, 1)),
    ],
)
def test_aliases(alias: str, first: datetime) -> None:
    assert fires(alias, count=1) == [first]


def test_every_is_a_constant_delay_on_whole_seconds() -> None:
    assert fires("@every 1h30m", count=2) == [utc(2026, 12, 6, 6, 0, 15), utc(2026, 12, 6, 7, 30, 15)]


@pytest.mark.parametrize(
    "expression", ["* * * *", "61 * * * *", "@fortnightly", "*/0 * * * *", "0 0 30 2 *", "@every 0s", "* * * * MON#1"]
)
def test_invalid_cron_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(expression)


def test_a_cron_schedule_offset_shifts_every_fire_time() -> None:
    when = cadence(schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="@hourly", offset="PT10M")))
    assert when is not None
    assert when.next_after(T0) == utc(2026, 12, 6, 5, 10)
    assert when.next_after(utc(2026, 12, 6, 4, 5)) == utc(2026, 12, 6, 4, 10)


@pytest.mark.parametrize(
    ("text", "offset"),
    [("PT10M", timedelta(minutes=10)), ("-P1DT2H", -timedelta(days=1, hours=2)), ("P1W", timedelta(weeks=1))],
)
def test_offsets_are_iso_8601_durations(text: str, offset: timedelta) -> None:
    assert parse_offset(text) == offset


@pytest.mark.parametrize("text", ["10 minutes", "P", "PT", "P1M", "P1Y"])
def test_offsets_without_a_fixed_length_or_form_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(text)


@pytest.mark.parametrize(
    ("unit", "interval"),
    [
        (schedule_pb2.MINUTE, timedelta(minutes=3)),
        (schedule_pb2.HOUR, timedelta(hours=3)),
        (schedule_pb2.DAY, timedelta(days=3)),
    ],
)
def test_a_fixed_rate_ticks_at_its_interval_from_the_last_tick(
    unit: schedule_pb2.FixedRateUnit, interval: timedelta
) -> None:
    when = cadence(schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=3, unit=unit)))
    assert when is not None
    assert when.next_after(T0) == T0 + interval
    assert when.next_after(T0 + timedelta(microseconds=500)) == T0 + interval  # on whole seconds


def test_the_deprecated_cron_expression_string_is_a_standard_expression() -> None:
    when = cadence(schedule_pb2.Schedule(cron_expression="0 * * * *"))
    assert when is not None and when.next_after(T0) == utc(2026, 12, 6, 5)


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        (schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=0)), "schedule.rate.value"),
        (schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=1, unit=9)), "schedule.rate.unit"),
        (schedule_pb2.Schedule(cron_expression="nope"), "schedule.cron_expression"),
        (
            schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="")),
            "schedule.cron_schedule.schedule",
        ),
        (
            schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="@daily", offset="P1M")),
            "schedule.cron_schedule.offset",
        ),
    ],
)
def test_an_invalid_schedule_names_its_field(schedule: schedule_pb2.Schedule, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        cadence(schedule, "schedule")
    assert refused.value.field == field


def test_no_expression_is_no_schedule() -> None:
    assert cadence(schedule_pb2.Schedule(kickoff_time_input_arg="t")) is None
