"""`flyteplane start`'s configuration: attempts link to admin's live logs, and admin may read where they are kept."""

from __future__ import annotations

import json
from pathlib import Path

from launcher.config import load_config
from launcher.start import (
    FLYTEKIT_PLUGIN,
    agent_server_for,
    flytekit_plugin_requirements,
    sandbox_config,
    with_agent_server,
)
from plugins.config import LocalPluginConfig, PluginsConfig


def test_local_attempts_link_to_admins_log_endpoint_which_reads_task_directories_and_the_store(
    tmp_path: Path,
) -> None:
    config = sandbox_config(load_config(env={}), tmp_path)
    local = config.propeller.plugins.backends["local"]
    assert local["log_link_base"] == "http://localhost:30081"
    assert config.admin.logs.task_dirs == [tmp_path / "local-tasks"]
    # Never the whole data directory: the databases, the secrets key and the plane credential live there.
    assert config.admin.logs.roots == [tmp_path / "local-tasks", tmp_path / "data"]
    assert config.admin.logs.roots[1] == config.storage.local_root


def test_a_free_admin_port_is_not_known_in_advance_so_no_link_is_made(tmp_path: Path) -> None:
    base = load_config(env={})
    base = base.model_copy(update={"admin": base.admin.model_copy(update={"http_port": 0})})
    assert "log_link_base" not in sandbox_config(base, tmp_path).propeller.plugins.backends["local"]


def test_a_work_directory_outside_the_data_directory_is_the_log_root(tmp_path: Path) -> None:
    base = load_config(env={})
    plugins = PluginsConfig.model_validate({"backends": {"local": {"work_dir": str(tmp_path / "elsewhere")}}})
    base = base.model_copy(update={"propeller": base.propeller.model_copy(update={"plugins": plugins})})
    config = sandbox_config(base, tmp_path / "data")
    assert config.admin.logs.roots == [tmp_path / "elsewhere", tmp_path / "data" / "data"]
    assert config.admin.logs.task_dirs == [tmp_path / "elsewhere"]


def test_admins_console_url_is_where_people_reach_the_logs(tmp_path: Path) -> None:
    base = load_config(env={})
    base = base.model_copy(update={"admin": base.admin.model_copy(update={"console_url": "https://flyte.example/"})})
    assert (
        sandbox_config(base, tmp_path).propeller.plugins.backends["local"]["log_link_base"] == "https://flyte.example"
    )


def test_k8s_pod_attempts_link_to_admins_log_endpoint_too(tmp_path: Path) -> None:
    base = load_config(env={})
    plugins = PluginsConfig.model_validate({"backends": {"k8s-pod": {"kube": {"namespace_template": "tasks"}}}})
    base = base.model_copy(update={"propeller": base.propeller.model_copy(update={"plugins": plugins})})
    backends = sandbox_config(base, tmp_path).propeller.plugins.backends
    assert backends["k8s-pod"]["log_link_base"] == "http://localhost:30081"
    assert backends["k8s-pod"]["kube"] == {"namespace_template": "tasks"}
    # Without a k8s-pod backend configured, none is made up.
    assert "k8s-pod" not in sandbox_config(load_config(env={}), tmp_path).propeller.plugins.backends


def test_the_agent_server_start_runs_is_the_default_agent_and_its_task_types_count(tmp_path: Path) -> None:
    config = with_agent_server(sandbox_config(load_config(env={}), tmp_path), "127.0.0.1:45001")
    plugins = config.propeller.plugins
    assert plugins.backends["agent"]["default_agent"] == {"endpoint": "127.0.0.1:45001"}
    assert "agent" in plugins.enabled
    assert plugins.plugin_id_for("sensor", "p", "d") == "agent"


def test_a_configured_default_agent_means_no_agent_server(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "pyflyte").touch()
    plugins = {"backends": {"local": {"default_environment": {"venv": str(venv)}}}}
    base = load_config(env={"FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(plugins)})
    server = agent_server_for(sandbox_config(base, tmp_path / "data"))
    assert server is not None and server.venv == venv
    plugins["backends"]["agent"] = {"default_agent": {"endpoint": "agents.example:443"}}
    base = load_config(env={"FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(plugins)})
    assert agent_server_for(sandbox_config(base, tmp_path / "data")) is None


def test_the_agent_server_gets_the_task_environments_variables(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "pyflyte").touch()
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:41100", "AWS_DEFAULT_REGION": "us-east-1"}
    plugins = {"backends": {"local": {"default_environment": {"venv": str(venv), "env": env}}}}
    base = load_config(env={"FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(plugins)})
    server = agent_server_for(sandbox_config(base, tmp_path / "data"))
    assert server is not None and server.environment == env


def test_a_task_environment_without_flytekit_runs_no_agent_server(tmp_path: Path) -> None:
    assert agent_server_for(sandbox_config(load_config(env={}), tmp_path, task_env=tmp_path / "empty")) is None


def test_imagespec_environments_live_in_the_data_directory_unless_configured(tmp_path: Path) -> None:
    local = sandbox_config(load_config(env={}), tmp_path).propeller.plugins.backends["local"]
    assert LocalPluginConfig.model_validate(local).image_spec.env_dir == tmp_path / "imagespec-envs"
    plugins = {"backends": {"local": {"image_spec": {"env_dir": str(tmp_path / "elsewhere")}}}}
    base = load_config(env={"FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(plugins)})
    local = sandbox_config(base, tmp_path).propeller.plugins.backends["local"]
    assert LocalPluginConfig.model_validate(local).image_spec.env_dir == tmp_path / "elsewhere"


def test_the_task_environment_gets_flyteplanes_flytekit_plugin_from_a_copy(tmp_path: Path) -> None:
    (requirement,) = flytekit_plugin_requirements(tmp_path)
    assert (Path(requirement) / "pyproject.toml").read_bytes() == (FLYTEKIT_PLUGIN / "pyproject.toml").read_bytes()
    assert (Path(requirement) / "flytekitplugins" / "flyteplane" / "builder.py").is_file()
