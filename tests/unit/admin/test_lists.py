"""List filters (`eq(name,x)+gt(created_at,...)`) split as Flyte's grammar does, in time linear in their length."""

from __future__ import annotations

import random
import re
import time

import pytest

from admin.lists import MAX_FILTERS_LENGTH, filter_expressions, parse_filters
from flyteplane.errors import InvalidArgument

# Flyte's own pattern for one expression, kept here only as the specification to compare against.
FLYTE_EXPRESSION = re.compile(r"^(.+)\((.+),\s?(.+)\)$")


def _by_flyte_pattern(text: str) -> list[tuple[str, str, str]] | None:
    triples = []
    for expression in text.split("+"):
        match = FLYTE_EXPRESSION.match(expression.strip())
        if match is None:
            return None
        function, field, value = (group.strip() for group in match.groups())
        triples.append((function, field, value))
    return triples


def _ours(text: str) -> list[tuple[str, str, str]] | None:
    try:
        return filter_expressions(text)
    except InvalidArgument:
        return None


def test_ordinary_filters_split_into_function_field_and_value() -> None:
    assert filter_expressions("eq(project,flytesnacks)+value_in(phase, RUNNING;FAILED)") == [
        ("eq", "project", "flytesnacks"),
        ("value_in", "phase", "RUNNING;FAILED"),
    ]


def test_every_short_string_splits_exactly_as_flytes_pattern_does() -> None:
    rng = random.Random(20261206)
    alphabet = "ab(), +\t"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert _ours(text) == _by_flyte_pattern(text), text


def test_a_line_break_inside_a_filter_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        filter_expressions("eq(name,\nx)")


def test_a_hostile_filter_is_answered_at_once() -> None:
    hostile = "eq(" + "(," * (MAX_FILTERS_LENGTH // 2 - 4)  # cubic for a backtracking regex: hours
    began = time.monotonic()
    with pytest.raises(InvalidArgument):
        filter_expressions(hostile)
    assert time.monotonic() - began < 20  # generous: the split itself takes microseconds


def test_filters_longer_than_the_bound_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_filters("eq(name,x)+" * 1000, "task")
    assert refused.value.field == "filters"
    assert str(MAX_FILTERS_LENGTH) in str(refused.value)
