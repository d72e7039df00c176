"""Fixtures of the Kubernetes backends' unit tests: a file:// store."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyteplane.storage import Storage, StorageConfig


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(StorageConfig(local_root=tmp_path / "store"))
