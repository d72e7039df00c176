"""A started server's collector (`flyteplane.collector`): what exists at the start is never walked again."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from flyteplane import collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.me = self


def test_objects_alive_at_the_start_leave_the_collected_generations_and_later_cycles_are_still_freed(
    restored: None,
) -> None:
    at_start = Node()
    collector.settle()
    assert gc.get_freeze_count() > 0
    assert not any(o is at_start for o in gc.get_objects())  # frozen: no collection walks it again
    assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
    later = Node()
    assert any(o is later for o in gc.get_objects())
    del later
    assert gc.collect() >= 1  # a cycle made after the start is still found and freed
