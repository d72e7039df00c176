"""Fixtures of the local backend's tests: real flytekit's virtualenv, the example package on a path, the plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.local.backend import LocalPlugin
from tests.support.flytekit import flytekit_bin
from tests.support.paths import examples_dir


@pytest.fixture(scope="session")
def flytekit_venv() -> Path:
    """A virtualenv with flytekit 1.16.31 (built once and cached; see tests.support.flytekit)."""
    return flytekit_bin().parent


@pytest.fixture(scope="session")
def examples_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose `examples` package is the reference example workflows, as an image would hold them."""
    root = tmp_path_factory.mktemp("code")
    (root / "examples").symlink_to(examples_dir(), target_is_directory=True)
    return root


@pytest.fixture
def local_config(tmp_path: Path, flytekit_venv: Path, examples_root: Path) -> LocalPluginConfig:
    return LocalPluginConfig(
        work_dir=tmp_path / "work",
        default_environment=LocalEnvironment(venv=flytekit_venv, python_path=(examples_root,)),
        kill_grace_seconds=2.0,
        log_upload_interval_seconds=0.0,
    )


@pytest.fixture
async def local_plugin(local_config: LocalPluginConfig) -> AsyncIterator[LocalPlugin]:
    plugin = LocalPlugin(local_config)
    yield plugin
    await plugin.aclose()
