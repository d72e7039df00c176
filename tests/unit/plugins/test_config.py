"""The `plugins` configuration: defaults that run every container task locally, overrides, strict validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from plugins.config import CONTAINER_TASK_TYPES, LocalPluginConfig, PluginsConfig


def test_defaults_map_container_task_types_to_local_and_echo_to_echo() -> None:
    config = PluginsConfig()
    assert {t: config.plugin_id_for(t, "p", "d") for t in CONTAINER_TASK_TYPES} == dict.fromkeys(
        CONTAINER_TASK_TYPES, "local"
    )
    assert config.plugin_id_for("echo", "p", "d") == "echo"


def test_unknown_task_type_runs_where_container_tasks_run_as_in_flyte() -> None:
    # Flyte's container (pod) plugin is its default plugin: a user's own task type runs as a container task.
    assert PluginsConfig().plugin_id_for("object-store-sensor", "p", "d") == "local"
    config = PluginsConfig(overrides={"p/d": {"container": "k8s-pod"}})
    assert config.plugin_id_for("object-store-sensor", "p", "d") == "k8s-pod"
    assert config.plugin_id_for("object-store-sensor", "p", "staging") == "local"


def test_unknown_task_type_resolves_to_nothing_when_nothing_serves_container() -> None:
    assert PluginsConfig(task_types={"python-task": "local"}).plugin_id_for("spark", "p", "d") is None


def test_default_plugin_serves_unknown_task_types() -> None:
    assert PluginsConfig(default_plugin="local").plugin_id_for("spark", "p", "d") == "local"


def test_project_domain_override_wins_over_project_override_and_task_types() -> None:
    config = PluginsConfig(
        overrides={"p/d": {"python-task": "echo"}, "p": {"python-task": "sample", "container": "sample"}}
    )
    assert config.plugin_id_for("python-task", "p", "d") == "echo"
    assert config.plugin_id_for("container", "p", "d") == "sample"
    assert config.plugin_id_for("python-task", "p", "other") == "sample"
    assert config.plugin_id_for("python-task", "q", "d") == "local"


@pytest.mark.parametrize("scope", ["", "a/b/c", "/d", "p/"])
def test_override_scope_must_name_a_project_or_project_and_domain(scope: str) -> None:
    with pytest.raises(ValidationError, match="override scope"):
        PluginsConfig(overrides={scope: {"python-task": "echo"}})


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        PluginsConfig.model_validate({"task_type": {}})


def test_local_backend_settings_are_validated_with_the_configuration() -> None:
    with pytest.raises(ValidationError, match="kill_grace"):
        PluginsConfig(backends={"local": {"kill_grace": 3}})


def test_local_backend_settings_are_available_typed() -> None:
    config = PluginsConfig(backends={"local": {"kill_grace_seconds": 3, "images": {"img:1": "/opt/venv"}}})
    assert config.local.kill_grace_seconds == 3
    assert config.local.images["img:1"].venv == Path("/opt/venv")


def test_factory_must_be_an_import_path() -> None:
    with pytest.raises(ValidationError, match="module:callable"):
        PluginsConfig(factories={"ray": "plugins.ray"})


def test_plugin_ids_are_checked() -> None:
    with pytest.raises(ValidationError, match="invalid plugin id"):
        PluginsConfig(task_types={"python-task": "Local Plugin"})


def test_configuration_is_frozen() -> None:
    config = LocalPluginConfig()
    with pytest.raises(ValidationError):
        config.kill_grace_seconds = 1


def test_referenced_plugins_list_every_id_once() -> None:
    config = PluginsConfig(default_plugin="local", overrides={"p": {"x": "sample"}})
    assert config.referenced_plugins() == ["local", "echo", "agent", "sample"]


def test_sensors_go_to_the_agent_plugin_by_default() -> None:
    assert PluginsConfig().plugin_id_for("sensor", "p", "d") == "agent"
    assert PluginsConfig().plugin_id_for("my-own-type", "p", "d") == "local"  # still the container plugin


def test_the_sagemaker_plugins_task_types_go_to_the_agent_plugin_by_default() -> None:
    # Before the agents list them too: a task that arrives first must not run as a container task.
    for task_type in ("boto", "sagemaker-endpoint", "sagemaker-training-job", "sagemaker-training-task"):
        assert PluginsConfig().plugin_id_for(task_type, "p", "d") == "agent"


def test_local_backend_starts_flytekit_tasks_warm_by_default() -> None:
    config = PluginsConfig().local
    assert config.warm is True
    assert config.default_environment.warm is None  # follows the backend
    assert config.warm_pool.prewarm is True


def test_warm_pool_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="servers_per_environment"):
        PluginsConfig(backends={"local": {"warm_pool": {"servers_per_environment": 0}}})
    config = PluginsConfig(backends={"local": {"warm": False, "warm_pool": {"recycle_after_forks": 5}}}).local
    assert (config.warm, config.warm_pool.recycle_after_forks) == (False, 5)
