"""Tasks whose image is an ImageSpec, on the local backend with real uv: what fails before any package is fetched.

The happy path (uv installing scikit-learn from PyPI) is tests/e2e/test_imagespec_with_flytekit.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flyteplane.storage import Storage
from plugins.config import ImageSpecConfig, LocalPluginConfig
from plugins.core import Phase
from plugins.local.backend import LocalPlugin
from plugins.local.imagespec import DOCUMENT_NAME, FORMAT, plan
from plugins.local.imagespec_env import READY
from tests.integration.plugins.helpers import Wakeups, container_task, drive, task_context


async def _spec_task(storage: Storage, **fields: Any) -> Any:
    document = {"format": FORMAT, "name": "sk", "tag": "T4g", "id": "Id1", "flytekit_version": "1.16.31", **fields}
    uri = f"{storage.default_prefix}/uploads/imagespec-1/{DOCUMENT_NAME}"
    await storage.write(uri, json.dumps(document).encode())
    template = container_task("pyflyte-execute", "--help")
    template.container.image = f"sk:T4g@{uri}"
    return template, document


def _config(local_config: LocalPluginConfig, tmp_path: Path) -> LocalPluginConfig:
    return local_config.model_copy(update={"image_spec": ImageSpecConfig(env_dir=tmp_path / "envs")})


async def test_a_python_version_this_machine_lacks_fails_the_task_naming_the_field(
    storage: Storage, local_config: LocalPluginConfig, tmp_path: Path
) -> None:
    config = _config(local_config, tmp_path)
    template, document = await _spec_task(storage, python_version="3.99")
    # What a build killed half-way leaves: never used, removed by the next build.
    key = plan(document, default_python="unused", flytekit_version="1.16.31").key
    half_built = config.image_spec.env_dir / key
    half_built.mkdir(parents=True)
    (half_built / "leftover").write_text("from a build that was killed")
    plugin = LocalPlugin(config)
    try:
        wake = Wakeups()
        first = await plugin.handle(task_context(storage, template, execution="py32", wake=wake))
        assert first.phase is Phase.INITIALIZING
        assert "building the environment of ImageSpec sk:T4g" in first.reason
        failed = await drive(plugin, task_context(storage, template, execution="py32", wake=wake), time_limit=60)
    finally:
        await plugin.aclose()
    assert failed.phase is Phase.PERMANENT_FAILURE
    assert failed.error is not None and failed.error.code == "ImageSpecBuildFailed"
    assert "ImageSpec field 'python_version': Python 3.99 is not available" in failed.error.message
    assert not (half_built / "leftover").exists()
    assert not (half_built / READY).exists()
    assert "uv venv" in (config.image_spec.env_dir / f"{key}.log").read_text()


async def test_an_unsupported_field_fails_the_task_before_anything_is_built(
    storage: Storage, local_config: LocalPluginConfig, tmp_path: Path
) -> None:
    config = _config(local_config, tmp_path)
    template, _ = await _spec_task(storage, apt_packages=["curl"], conda_packages=["numpy"])
    plugin = LocalPlugin(config)
    try:
        failed = await plugin.handle(task_context(storage, template, execution="apt"))
    finally:
        await plugin.aclose()
    assert failed.phase is Phase.PERMANENT_FAILURE
    assert failed.error is not None and failed.error.code == "ImageSpecUnsupported"
    assert "ImageSpec field 'apt_packages' (['curl']) is not supported" in failed.error.message
    assert not config.image_spec.env_dir.exists()


async def test_a_missing_spec_document_fails_the_task_saying_which(
    storage: Storage, local_config: LocalPluginConfig, tmp_path: Path
) -> None:
    template = container_task("true")
    template.container.image = f"sk:T4g@{storage.default_prefix}/nowhere/{DOCUMENT_NAME}"
    plugin = LocalPlugin(_config(local_config, tmp_path))
    try:
        failed = await plugin.handle(task_context(storage, template, execution="gone"))
    finally:
        await plugin.aclose()
    assert failed.phase is Phase.PERMANENT_FAILURE
    assert failed.error is not None and "cannot read the ImageSpec document" in failed.error.message
