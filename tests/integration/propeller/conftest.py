"""A running admin + propeller pair for engine tests (SQLite; PostgreSQL where a test asks for it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.plane import RunningPlane, plane_config, running_plane


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    async with running_plane(config) as running:
        yield running
