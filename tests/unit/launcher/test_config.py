"""One configuration schema, composed of the sections each component declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin.config import AdminPlaneConfig
from datacatalog.config import DataCatalogPlaneConfig
from flyteplane.errors import InvalidArgument
from launcher.config import FlyteplaneConfig, load_config
from propeller.config import PropellerPlaneConfig
from propeller.services import EngineSettings
from scheduler.config import SchedulerPlaneConfig


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flyteplane.yaml"
    path.write_text(text)
    return path


def test_the_engine_tunables_are_set_from_yaml_and_reach_the_engine(tmp_path: Path) -> None:
    path = _write(tmp_path, "propeller:\n  max_nodes_per_round: 7\n  event_batch: 3\n  max_passes_per_round: 2\n")
    config = load_config(path, env={})
    settings = EngineSettings(metadata_prefix="file:///m", raw_output_prefix="file:///r", tuning=config.propeller)
    assert (settings.tuning.max_nodes_per_round, settings.tuning.event_batch) == (7, 3)
    assert settings.tuning.max_passes_per_round == 2
    assert settings.tuning.workers == 16  # what the file does not say keeps its one default


def test_the_environment_sets_an_engine_tunable(tmp_path: Path) -> None:
    config = load_config(None, env={"FLYTEPLANE_PROPELLER__MAX_NODES_PER_ROUND": "9"})
    assert config.propeller.max_nodes_per_round == 9


def test_the_plugins_section_is_validated_when_the_configuration_is_loaded(tmp_path: Path) -> None:
    path = _write(tmp_path, "propeller:\n  plugins:\n    overrides:\n      'a/b/c': {python-task: echo}\n")
    with pytest.raises(InvalidArgument) as refused:
        load_config(path, env={})
    assert refused.value.field is not None and refused.value.field.startswith("propeller.plugins.overrides")


def test_a_plugins_section_from_yaml_is_typed(tmp_path: Path) -> None:
    path = _write(tmp_path, "propeller:\n  plugins:\n    task_types: {python-task: echo}\n")
    assert load_config(path, env={}).propeller.plugins.task_types == {"python-task": "echo"}


def test_each_component_reads_the_whole_configuration_through_its_own_part() -> None:
    config = FlyteplaneConfig()
    assert isinstance(config, AdminPlaneConfig)
    assert isinstance(config, DataCatalogPlaneConfig)
    assert isinstance(config, PropellerPlaneConfig)
    assert isinstance(config, SchedulerPlaneConfig)
    assert set(FlyteplaneConfig.model_fields) == {
        "data_dir",
        "credential",
        "logging",
        "tracing",
        "storage",
        "admin",
        "datacatalog",
        "propeller",
        "scheduler",
    }


def test_an_unknown_engine_key_is_an_error_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "propeller:\n  max_nodes_per_rund: 7\n")
    with pytest.raises(InvalidArgument) as refused:
        load_config(path, env={})
    assert refused.value.field == "propeller.max_nodes_per_rund"


def test_the_retry_backoff_policy_and_its_overrides_are_set_from_yaml(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "propeller:\n  retry_backoff:\n    base_seconds: 2\n    factor: 3\n    max_seconds: 60\n    jitter: 0.1\n"
        "    overrides:\n      'p/d': {base_seconds: 0}\n      p: {max_seconds: 5}\n",
    )
    backoff = load_config(path, env={}).propeller.retry_backoff
    assert (backoff.base_seconds, backoff.factor, backoff.max_seconds, backoff.jitter) == (2, 3, 60, 0.1)
    assert backoff.for_scope("p", "d").base_seconds == 0
    assert backoff.for_scope("p", "other").max_seconds == 5


def test_a_retry_backoff_override_scope_is_a_project_or_a_project_and_domain(tmp_path: Path) -> None:
    path = _write(tmp_path, "propeller:\n  retry_backoff:\n    overrides:\n      'a/b/c': {base_seconds: 1}\n")
    with pytest.raises(InvalidArgument) as refused:
        load_config(path, env={})
    assert refused.value.field is not None and refused.value.field.startswith("propeller.retry_backoff.overrides")


def test_admin_reads_pod_logs_with_each_kubernetes_backends_connection(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "propeller:\n  plugins:\n    backends:\n"
        "      k8s-pod: {kube: {connection: {host: 'https://10.0.0.1:6443', token: t}}}\n"
        "      spark: {kube: {connection: {host: 'https://10.0.0.2:6443'}}}\n"
        "      local: {work_dir: /tmp/tasks}\n"
        "admin:\n  logs:\n    kubernetes:\n      spark: {host: 'https://elsewhere:6443'}\n",
    )
    clusters = load_config(path, env={}).admin.logs.kubernetes
    assert set(clusters) == {"k8s-pod", "spark"}
    assert clusters["k8s-pod"].host == "https://10.0.0.1:6443"
    assert clusters["k8s-pod"].token is not None and clusters["k8s-pod"].token.get_secret_value() == "t"
    assert clusters["spark"].host == "https://elsewhere:6443"  # admin's own setting wins
