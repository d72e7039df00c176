"""Syntax check of launch-plan cron schedules: standard 5-field expressions and `@` descriptors."""

from __future__ import annotations

import re

_DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_GO_DURATION = re.compile(r"^([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$")
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


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a valid standard cron schedule, or None when it is."""
    text = expression.strip()
    if text.startswith(("CRON_TZ=", "TZ=")):
        _, _, text = text.partition(" ")
        text = text.strip()
    if text.startswith("@"):
        if text in _DESCRIPTORS:
            return None
        if text.startswith("@every "):
            return None if _GO_DURATION.match(text[len("@every ") :].strip()) else "invalid @every duration"
        return f"unrecognized descriptor: {text}"
    fields = text.split()
    if len(fields) != len(_FIELDS):
        return f"expected exactly 5 fields, found {len(fields)}: {expression}"
    for value, (low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_error(value, low, high, names)
        if problem is not None:
            return problem
    return None


def _field_error(value: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    for part in value.split(","):
        span, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"invalid step in {part!r}"
        if span in ("*", "?"):
            continue
        start_text, dash, end_text = span.partition("-")
        start = _number(start_text, names)
        end = _number(end_text, names) if dash else start
        if start is None or end is None:
            return f"failed to parse {part!r}"
        if start < low or end > high or start > end:
            return f"{part!r} is out of range [{low}, {high}]"
    return None


def _number(text: str, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    if upper in names:
        offset = 1 if names is _MONTHS else 0
        return names.index(upper) + offset
    return None
