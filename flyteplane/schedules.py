"""Launch-plan schedules as fire times: parsing and validating a `flyteidl.admin.Schedule`, and its next tick.

One definition serves both sides, so admin can never accept a schedule the scheduler cannot run:
admin's registration and activation checks (`check_schedule`, through `propeller.compiler`) and the
scheduler's tick computation (`cadence`). It lives on the ground floor because both import it.

What a schedule means (the rules of Flyte's native scheduler, flyteadmin/scheduler, which uses
robfig/cron's `ParseStandard`):

- cron (`cron_schedule.schedule`, or the deprecated `cron_expression` string, which Flyte's admin
  also checks as a standard expression): five fields (minute, hour, day of month, month, day of
  week 0-6 with SUN-SAT and JAN-DEC names, `*`, `?`, ranges, lists, `/step`, `N/step` = N-max/step);
  day of month and day of week both restricted means either matches (Vixie cron); the descriptors
  `@yearly @annually @monthly @weekly @daily @midnight @hourly`, flytekit's bare aliases (`hourly`,
  `days`, ...), `@every <Go duration>` (a constant delay) and a `CRON_TZ=<zone>` / `TZ=<zone>` prefix.
  Times are UTC unless the expression names a zone (local wall-clock times that a DST change
  skips or repeats resolve as `zoneinfo` resolves them, fold 0).
- `cron_schedule.offset`: an ISO 8601 duration (`PT10M`, `-P1DT2H`; weeks, days, hours, minutes,
  seconds — years and months have no fixed length and are refused) added to every cron time.
- fixed rate (`rate`): `value` > 0 minutes, hours or days; ticks follow each other at that interval,
  the first one interval after the version was activated (robfig's ConstantDelaySchedule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flyteidl_py.admin import schedule_pb2
from flyteplane.errors import InvalidArgument

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# flytekit's CronSchedule accepts these without the `@` and sends them as written.
_ALIASES = {
    "hourly": "@hourly",
    "hours": "@hourly",
    "daily": "@daily",
    "days": "@daily",
    "weekly": "@weekly",
    "weeks": "@weekly",
    "monthly": "@monthly",
    "months": "@monthly",
    "annually": "@annually",
    "yearly": "@yearly",
    "years": "@yearly",
}
_GO_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_ISO_DURATION = re.compile(
    r"^(?P<sign>[-+]?)P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (low, high, names) per field: minute, hour, day of month, month, day of week.
_FIELDS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
# The longest gap between two fire times of a valid expression: 29 February across a skipped leap year.
_SEARCH_DAYS = 366 * 9
_RATE_UNITS = {
    schedule_pb2.MINUTE: timedelta(minutes=1),
    schedule_pb2.HOUR: timedelta(hours=1),
    schedule_pb2.DAY: timedelta(days=1),
}
SCHEDULE_FIELD = "spec.entity_metadata.schedule"


class Cadence(Protocol):
    """When a schedule fires."""

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment` (timezone-aware, UTC)."""
        ...


class NeverFires(ValueError):
    """A well-formed cron expression that names no real date (e.g. 30 February)."""


@dataclass(frozen=True)
class FixedInterval:
    """A constant delay: each tick `interval` after the previous one, on whole seconds."""

    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC).replace(microsecond=0) + self.interval


@dataclass(frozen=True)
class CronTimes:
    """The times a five-field cron expression matches, in its zone."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month was `*` / `?`
    any_weekday: bool  # day of week was `*` / `?`
    zone: tzinfo = UTC

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        # Vixie cron (and robfig): both fields restricted means either may match.
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                first_day = day == local.date()
                for hour in self.hours:
                    if first_day and hour < local.hour:
                        continue
                    for minute in self.minutes:
                        if first_day and hour == local.hour and minute < local.minute:
                            continue
                        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        found = wall.astimezone(UTC)
                        if found > moment:
                            return found
            day += timedelta(days=1)
        raise NeverFires("the expression matches no date")


@dataclass(frozen=True)
class Shifted:
    """A cadence whose every fire time is moved by `offset` (CronSchedule.offset)."""

    base: Cadence
    offset: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return self.base.next_after(moment - self.offset) + self.offset


def parse_cron(expression: str) -> Cadence:
    """The cadence of a cron expression; ValueError (with the reason) when it is not one."""
    text = expression.strip()
    zone: tzinfo = UTC
    if text.startswith(("CRON_TZ=", "TZ=")):
        spec, _, text = text.partition(" ")
        name = spec.partition("=")[2]
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        text = text.strip()
    text = _ALIASES.get(text.lower(), text)
    if text.startswith("@every "):
        return FixedInterval(_go_duration(text[len("@every ") :].strip()))
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {text}")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {expression}")
    parsed = [_field(value, low, high, names) for value, (low, high, names) in zip(fields, _FIELDS, strict=True)]
    (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_weekday) = parsed
    times = CronTimes(
        tuple(sorted(minutes)),
        tuple(sorted(hours)),
        frozenset(days),
        frozenset(months),
        frozenset(weekdays),
        any_day,
        any_weekday,
        zone,
    )
    times.next_after(datetime.now(UTC))  # NeverFires for 30 February and the like
    return times


def _field(value: str, low: int, high: int, names: tuple[str, ...]) -> tuple[set[int], bool]:
    """The values a field allows, and whether it was a bare `*` / `?` (robfig's star bit)."""
    allowed: set[int] = set()
    star = False
    for part in value.split(","):
        span, slash, step_text = part.partition("/")
        if slash and (not step_text.isdigit() or int(step_text) == 0):
            raise ValueError(f"invalid step in {part!r}")
        step = int(step_text) if slash else 1
        if span in ("*", "?"):
            start, end = low, high
            star = star or step == 1
        else:
            start_text, dash, end_text = span.partition("-")
            first = _number(start_text, names)
            last = _number(end_text, names) if dash else first
            if first is None or last is None:
                raise ValueError(f"failed to parse {part!r}")
            if first < low or last > high or first > last:
                raise ValueError(f"{part!r} is out of range [{low}, {high}]")
            start, end = first, (high if slash and not dash else last)
        allowed.update(range(start, end + 1, step))
    return allowed, star


def _number(text: str, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    if upper in names:
        return names.index(upper) + (1 if names is _MONTHS else 0)
    return None


def _go_duration(text: str) -> timedelta:
    """A Go `time.ParseDuration` string (`1h30m`, `90s`), as robfig's `@every` reads it."""
    position, seconds = 0, 0.0
    while position < len(text):
        match = _GO_DURATION_PART.match(text, position)
        if match is None or match.group(1) in ("", "."):
            raise ValueError(f"invalid @every duration: {text!r}")
        seconds += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    if not text or seconds < 1:
        raise ValueError(f"@every needs a duration of at least one second: {text!r}")
    return timedelta(seconds=int(seconds))  # robfig rounds a constant delay down to whole seconds


def parse_offset(text: str) -> timedelta:
    """An ISO 8601 duration (CronSchedule.offset); ValueError when it is not one we can apply."""
    match = _ISO_DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "-P", "+P") or text.strip().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    if match["years"] or match["months"]:
        raise ValueError(f"years and months have no fixed length; use weeks, days, hours, minutes: {text!r}")
    offset = timedelta(
        weeks=int(match["weeks"] or 0),
        days=int(match["days"] or 0),
        hours=int(match["hours"] or 0),
        minutes=int(match["minutes"] or 0),
        seconds=float((match["seconds"] or "0").replace(",", ".")),
    )
    return -offset if match["sign"] == "-" else offset


def cadence(schedule: schedule_pb2.Schedule, where: str = SCHEDULE_FIELD) -> Cadence | None:
    """When `schedule` fires (None when it has no expression); InvalidArgument naming the field when it is invalid."""
    kind = schedule.WhichOneof("ScheduleExpression")
    if kind is None:
        return None
    if kind == "rate":
        if schedule.rate.value <= 0:
            raise InvalidArgument(
                f"fixed rate value must be greater than 0, got {schedule.rate.value}", field=f"{where}.rate.value"
            )
        unit = _RATE_UNITS.get(schedule.rate.unit)
        if unit is None:
            raise InvalidArgument(
                f"unknown fixed rate unit {schedule.rate.unit}: use MINUTE, HOUR or DAY", field=f"{where}.rate.unit"
            )
        return FixedInterval(unit * schedule.rate.value)
    if kind == "cron_expression":
        expression, field = schedule.cron_expression, f"{where}.cron_expression"
    else:
        expression, field = schedule.cron_schedule.schedule, f"{where}.cron_schedule.schedule"
    try:
        cron = parse_cron(expression)
    except ValueError as exc:
        raise InvalidArgument(f"invalid cron expression [{expression}]: {exc}", field=field) from exc
    if kind == "cron_schedule" and schedule.cron_schedule.offset:
        try:
            offset = parse_offset(schedule.cron_schedule.offset)
        except ValueError as exc:
            raise InvalidArgument(
                f"invalid cron schedule offset [{schedule.cron_schedule.offset}]: {exc}",
                field=f"{where}.cron_schedule.offset",
            ) from exc
        if offset:
            return Shifted(cron, offset)
    return cron


def check_schedule(schedule: schedule_pb2.Schedule, where: str = SCHEDULE_FIELD) -> None:
    """Refuse (InvalidArgument naming the field) a schedule the scheduler could not run."""
    cadence(schedule, where)
