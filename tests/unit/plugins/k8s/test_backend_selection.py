"""Which backend serves a task type is configuration, overridable per project and domain; names and errors."""

from __future__ import annotations

import pytest

from plugins.config import PluginsConfig
from plugins.core import Phase, Transition
from plugins.k8s.client import is_retryable
from plugins.k8s.manager import ManagerState, bump_version
from plugins.k8s.names import dns1123_label, label_value, namespace_for
from plugins.registry import PluginRegistry

LAPTOP_AND_CLUSTER = {
    "task_types": {"python-task": "local", "spark": "spark-local", "ray": "ray-jobs", "container_array": "k8s-array"},
    "overrides": {
        "flytesnacks/production": {"python-task": "k8s-pod", "spark": "spark", "ray": "ray"},
        "analytics": {"spark": "spark"},
    },
    "backends": {
        "k8s-pod": {"kube": {"connection": {"host": "http://127.0.0.1:1"}}},
        "k8s-array": {"kube": {"connection": {"host": "http://127.0.0.1:1"}}},
        "spark": {"kube": {"connection": {"host": "http://127.0.0.1:1"}}},
        "ray": {"kube": {"connection": {"host": "http://127.0.0.1:1"}}},
    },
}


async def test_one_registered_workflow_runs_locally_and_on_a_cluster_by_project_domain() -> None:
    registry = await PluginRegistry.load(PluginsConfig.model_validate(LAPTOP_AND_CLUSTER))
    try:
        assert registry.plugin_for("spark", "flytesnacks", "development").id == "spark-local"
        assert registry.plugin_for("ray", "flytesnacks", "development").id == "ray-jobs"
        assert registry.plugin_for("python-task", "flytesnacks", "development").id == "local"
        assert registry.plugin_for("spark", "flytesnacks", "production").id == "spark"
        assert registry.plugin_for("ray", "flytesnacks", "production").id == "ray"
        assert registry.plugin_for("python-task", "flytesnacks", "production").id == "k8s-pod"
        assert registry.plugin_for("spark", "analytics", "development").id == "spark"
        assert registry.plugin_for("container_array", "analytics", "development").id == "k8s-array"
    finally:
        await registry.aclose()


async def test_enabled_kubernetes_backends_serve_the_task_types_they_declare() -> None:
    config = PluginsConfig.model_validate({
        "task_types": {}, "enabled": ["k8s-pod", "k8s-array", "spark", "ray"],
    })  # fmt: skip
    registry = await PluginRegistry.load(config)
    try:
        served = {t: registry.plugin_id_for(t, "p", "d") for t in ("python-task", "container_array", "spark", "ray")}
        assert served == {"python-task": "k8s-pod", "container_array": "k8s-array", "spark": "spark", "ray": "ray"}
    finally:
        await registry.aclose()


async def test_a_misconfigured_backend_fails_at_load() -> None:
    config = PluginsConfig.model_validate({"task_types": {"spark": "spark"}, "backends": {"spark": {"sparkk": 1}}})
    with pytest.raises(Exception, match="sparkk"):
        await PluginRegistry.load(config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("abc-123", "abc-123"), ("Exec_Name.With.Dots", "exec-name-with-dots-"), ("-x-", "x-")],
)
def test_dns1123_labels_are_sanitised_and_stay_distinct(text: str, expected: str) -> None:
    label = dns1123_label(text)
    assert label.startswith(expected.rstrip("-")) and len(label) <= 63
    assert label == dns1123_label(text)


def test_long_names_and_label_values_are_cut_with_a_hash() -> None:
    long = "a" * 100
    assert len(dns1123_label(long)) == 63
    assert dns1123_label(long) != dns1123_label(long + "b")
    assert len(label_value("x." * 50)) <= 63
    assert label_value("ok_value-1.2") == "ok_value-1.2"


def test_namespace_template_uses_project_and_domain() -> None:
    assert namespace_for("{{ project }}-{{ domain }}", "flytesnacks", "development") == "flytesnacks-development"
    assert namespace_for("{{.Project}}", "My_Project", "d").startswith("my-project")
    with pytest.raises(ValueError, match="unknown variable"):
        namespace_for("{{ cluster }}", "p", "d")


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (0, "MaxRetryError", True), (500, "InternalError", True), (503, "ServiceUnavailable", True),
        (429, "TooManyRequests", True), (409, "Conflict", True), (409, "AlreadyExists", True),
        (401, "Unauthorized", True), (403, "Forbidden:quota", True), (400, "BadRequest", False),
        (422, "Invalid", False), (404, "NotFound", False), (403, "Forbidden", False),
        (413, "RequestEntityTooLarge", False),
    ],
)  # fmt: skip
def test_api_errors_are_classified_retryable_or_not(status: int, reason: str, retryable: bool) -> None:
    assert is_retryable(status, reason) is retryable


def test_a_new_reason_in_the_same_phase_gets_a_new_version() -> None:
    previous = ManagerState("ns", "n", started=True, phase=int(Phase.QUEUED), phase_version=0, reason="Scheduling")
    moved = bump_version(previous, Transition(Phase.QUEUED, reason="Unschedulable:0/3 nodes"))
    assert moved.version == 1
    same = bump_version(previous, Transition(Phase.QUEUED, reason="Scheduling"))
    assert same.version == 0
