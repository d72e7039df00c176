"""The local backend's instruments count what really happened: cold starts, forks from a warm server, reuse.

Real flytekit runs `examples.configured.retried` (x + 1) in each mode; the counters and the pool-size
gauge are read from the registry the engine would scrape.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from flyteplane.storage import Storage
from plugins.config import LocalPluginConfig, WarmPoolConfig
from plugins.core import Phase
from plugins.local.backend import LocalPlugin
from tests.integration.plugins.helpers import drive, fixture_task, int_inputs, task_context, write_inputs
from tests.integration.plugins.local.test_warm import warm_config, warm_tasks_root

__all__ = ["warm_config", "warm_tasks_root"]  # fixtures, shared with the warm-start tests


def _started(registry: CollectorRegistry, how: str) -> float:
    return registry.get_sample_value("flyteplane_local_attempts_started_total", {"how": how}) or 0.0


def _servers(registry: CollectorRegistry, kind: str) -> float | None:
    return registry.get_sample_value("flyteplane_local_warm_servers", {"kind": kind})


async def _run_three(plugin: LocalPlugin, storage: Storage, execution: str, registry: CollectorRegistry) -> float:
    """Runs three attempts; the pool's size (of its kind) while the last had just finished."""
    for node in ("n0", "n1", "n2"):
        ctx = task_context(storage, fixture_task("examples.configured.retried"), execution=execution, node=node)
        await write_inputs(ctx, int_inputs(x=1))
        transition = await drive(plugin, ctx)
        assert transition.phase is Phase.SUCCESS, transition.reason
    return (_servers(registry, "fork_server") or 0.0) + (_servers(registry, "reuse_worker") or 0.0)


async def test_attempts_forked_from_a_warm_server_are_counted_as_forks(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    registry = CollectorRegistry()
    plugin = LocalPlugin(warm_config)
    plugin.register_metrics(registry)
    assert _servers(registry, "fork_server") == 0
    try:
        alive = await _run_three(plugin, storage, "forked", registry)
    finally:
        await plugin.aclose()
    assert _started(registry, "fork") == 3
    assert _started(registry, "cold") == _started(registry, "reuse") == 0
    assert registry.get_sample_value("flyteplane_local_warm_servers_started_total", {"kind": "fork_server"}) == 1
    assert alive == 1
    assert _servers(registry, "fork_server") == 0  # stopped with the plugin


async def test_attempts_in_a_reuse_worker_are_counted_as_reuse(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    registry = CollectorRegistry()
    config = warm_config.model_copy(
        update={"warm_mode": "reuse", "warm_pool": WarmPoolConfig(reuse_workers_per_environment=1)}
    )
    plugin = LocalPlugin(config)
    plugin.register_metrics(registry)
    try:
        alive = await _run_three(plugin, storage, "reused", registry)
    finally:
        await plugin.aclose()
    assert _started(registry, "reuse") == 3
    assert _started(registry, "fork") == 0
    assert registry.get_sample_value("flyteplane_local_warm_servers_started_total", {"kind": "reuse_worker"}) == 1
    assert alive == 1


async def test_attempts_without_a_warm_pool_are_counted_as_cold(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    plugin = LocalPlugin(warm_config.model_copy(update={"warm": False}))
    plugin.register_metrics(registry)
    try:
        ctx = task_context(storage, fixture_task("examples.configured.retried"), execution="cold")
        await write_inputs(ctx, int_inputs(x=1))
        assert (await drive(plugin, ctx)).phase is Phase.SUCCESS
    finally:
        await plugin.aclose()
    assert _started(registry, "cold") == 1
    assert _started(registry, "fork") == _started(registry, "reuse") == 0
