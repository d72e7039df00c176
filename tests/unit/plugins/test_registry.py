"""The plugin registry builds configured backends from built-ins, entry points and import paths."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from flyteplane.errors import FailedPrecondition, InvalidArgument
from plugins.config import PluginsConfig
from plugins.echo import EchoPlugin
from plugins.local.backend import LocalPlugin
from plugins.registry import ENTRY_POINT_GROUP, PluginRegistry
from tests.unit.plugins.sample_plugin import SamplePlugin

SAMPLE = "tests.unit.plugins.sample_plugin"


def entry_point(name: str, target: str) -> EntryPoint:
    return EntryPoint(name=name, value=target, group=ENTRY_POINT_GROUP)


async def test_default_registry_runs_python_tasks_locally_and_echo_tasks_with_echo() -> None:
    registry = await PluginRegistry.load(PluginsConfig(), entry_points=[])
    assert isinstance(registry.plugin_for("python-task", "p", "d"), LocalPlugin)
    assert isinstance(registry.plugin_for("echo", "p", "d"), EchoPlugin)


async def test_one_instance_serves_every_task_of_a_plugin() -> None:
    registry = await PluginRegistry.load(PluginsConfig(), entry_points=[])
    assert registry.plugin_for("python-task", "p", "d") is registry.plugin_for("container", "q", "e")


async def test_project_domain_override_selects_another_plugin() -> None:
    config = PluginsConfig(overrides={"p/d": {"python-task": "echo"}})
    registry = await PluginRegistry.load(config, entry_points=[])
    assert isinstance(registry.plugin_for("python-task", "p", "d"), EchoPlugin)
    assert isinstance(registry.plugin_for("python-task", "p", "staging"), LocalPlugin)


async def test_task_type_nothing_serves_is_invalid_argument() -> None:
    # Nothing serves `container` here, so there is no default plugin either.
    registry = await PluginRegistry.load(PluginsConfig(task_types={"python-task": "local"}), entry_points=[])
    with pytest.raises(InvalidArgument, match="no plugin serves task type 'spark'"):
        registry.plugin_for("spark", "p", "d")


async def test_default_plugin_serves_unknown_task_types() -> None:
    registry = await PluginRegistry.load(PluginsConfig(default_plugin="echo"), entry_points=[])
    assert isinstance(registry.plugin_for("spark", "p", "d"), EchoPlugin)


async def test_configured_plugin_without_factory_fails_at_load() -> None:
    with pytest.raises(FailedPrecondition, match="no plugin factory named 'dask'"):
        await PluginRegistry.load(PluginsConfig(task_types={"dask": "dask"}), entry_points=[])


async def test_entry_point_plugin_is_built_with_its_backend_settings() -> None:
    config = PluginsConfig(task_types={"sample": "sample"}, backends={"sample": {"size": 3}})
    registry = await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create")])
    plugin = registry.plugin_for("sample", "p", "d")
    assert isinstance(plugin, SamplePlugin)
    assert plugin.config == {"size": 3}


async def test_async_factory_is_awaited() -> None:
    config = PluginsConfig(task_types={"sample": "sample"})
    registry = await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create_async")])
    plugin = registry.plugin_for("sample", "p", "d")
    assert isinstance(plugin, SamplePlugin)
    assert plugin.config == {"built": "async"}


async def test_configured_import_path_wins_over_entry_point() -> None:
    config = PluginsConfig(task_types={"sample": "sample"}, factories={"sample": f"{SAMPLE}:create_async"})
    registry = await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create")])
    assert registry.plugin_for("sample", "p", "d").config == {"built": "async"}  # type: ignore[attr-defined]


async def test_unreferenced_entry_points_are_never_imported() -> None:
    broken = entry_point("unused", "no_such_module_anywhere:create")
    registry = await PluginRegistry.load(PluginsConfig(), entry_points=[broken])
    assert set(registry.plugins) == {"local", "echo", "agent"}


async def test_factory_that_cannot_be_imported_fails_at_load() -> None:
    config = PluginsConfig(task_types={"sample": "sample"})
    with pytest.raises(FailedPrecondition, match="cannot load the factory of plugin 'sample'"):
        await PluginRegistry.load(config, entry_points=[entry_point("sample", "no_such_module_anywhere:create")])


async def test_two_entry_points_of_one_id_are_refused_when_used() -> None:
    config = PluginsConfig(task_types={"sample": "sample"})
    points = [entry_point("sample", f"{SAMPLE}:create"), entry_point("sample", f"{SAMPLE}:create_async")]
    with pytest.raises(FailedPrecondition, match="two entry points"):
        await PluginRegistry.load(config, entry_points=points)


async def test_rejected_backend_settings_fail_at_load_naming_the_backend() -> None:
    config = PluginsConfig(task_types={"sample": "sample"}, backends={"sample": {"bad": 1}})
    with pytest.raises(FailedPrecondition) as caught:
        await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create")])
    assert caught.value.field == "plugins.backends.sample"


async def test_factory_returning_something_else_than_a_plugin_is_refused() -> None:
    config = PluginsConfig(task_types={"sample": "sample"}, factories={"sample": f"{SAMPLE}:not_a_plugin"})
    with pytest.raises(FailedPrecondition, match="not a Plugin"):
        await PluginRegistry.load(config, entry_points=[])


async def test_echo_takes_no_settings() -> None:
    with pytest.raises(FailedPrecondition, match="no settings"):
        await PluginRegistry.load(PluginsConfig(backends={"echo": {"x": 1}}), entry_points=[])


async def test_backend_named_in_factories_serves_the_task_types_it_declares() -> None:
    config = PluginsConfig(factories={"sample": f"{SAMPLE}:create"})  # the one configuration entry
    registry = await PluginRegistry.load(config, entry_points=[])
    assert isinstance(registry.plugin_for("sample", "p", "d"), SamplePlugin)


async def test_enabled_entry_point_plugin_serves_the_task_types_it_declares() -> None:
    config = PluginsConfig(enabled=("sample",))
    registry = await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create")])
    assert isinstance(registry.plugin_for("sample", "p", "d"), SamplePlugin)


async def test_task_types_a_plugin_learns_after_loading_are_served_from_then_on() -> None:
    # The agent plugin learns its agents' task types when they answer, which may be after the engine started.
    config = PluginsConfig(enabled=("sample",))
    registry = await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create")])
    plugin = registry.plugin_for("sample", "p", "d")
    assert registry.plugin_id_for("learned-later", "p", "d") == "local"
    plugin.task_types = (*plugin.task_types, "learned-later")
    assert registry.plugin_for("learned-later", "p", "d") is plugin


async def test_configured_task_type_wins_over_a_declared_one() -> None:
    config = PluginsConfig(enabled=("sample",), task_types={"sample": "echo"})
    registry = await PluginRegistry.load(config, entry_points=[entry_point("sample", f"{SAMPLE}:create")])
    assert isinstance(registry.plugin_for("sample", "p", "d"), EchoPlugin)


async def test_two_enabled_plugins_declaring_one_task_type_are_refused() -> None:
    config = PluginsConfig(enabled=("sample", "other"))
    points = [entry_point("sample", f"{SAMPLE}:create"), entry_point("other", f"{SAMPLE}:create_async")]
    with pytest.raises(FailedPrecondition, match="both serve task type 'sample'"):
        await PluginRegistry.load(config, entry_points=points)


async def test_installed_entry_points_are_read_by_default() -> None:
    registry = await PluginRegistry.load(PluginsConfig())  # whatever is installed, the built-ins load
    assert {"local", "echo"} <= set(registry.plugins)
