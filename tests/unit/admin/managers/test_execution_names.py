"""Generated execution names: Flyte's shape, and random at every position (a name is the execution's key)."""

from __future__ import annotations

import re

from admin.managers.executions import generate_name


def test_generated_names_have_flytes_shape_and_vary_at_every_position() -> None:
    names = [generate_name() for _ in range(3000)]
    assert all(re.fullmatch(r"a[bcdfghjklmnpqrstvwxz2456789]{19}", name) for name in names)
    assert len(set(names)) == len(names)
    for position in range(1, 20):
        # 3,000 draws of 27 characters: every one turns up at every position (each is missing with
        # probability about 27 * (26/27)**3000, below 1e-47).
        assert len({name[position] for name in names}) == 27, position
