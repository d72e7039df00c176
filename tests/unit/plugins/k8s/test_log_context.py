"""The log context a pod backend reports: where admin reads the attempt's log from the pod log API."""

from __future__ import annotations

from datetime import UTC, datetime

from plugins.k8s.logs import pod_log_context


def test_a_pods_log_context_names_its_namespace_pod_containers_and_their_run_times() -> None:
    ran = {"startedAt": "2026-01-02T03:04:05Z", "finishedAt": "2026-01-02T03:04:09Z"}
    pod = {
        "metadata": {"name": "abc-n0-0", "namespace": "flytesnacks-development"},
        "spec": {"containers": [{"name": "abc-n0-0"}, {"name": "sidecar"}], "initContainers": [{"name": "setup"}]},
        "status": {
            "containerStatuses": [
                {"name": "abc-n0-0", "state": {"terminated": ran}},
                {"name": "sidecar", "state": {"running": {"startedAt": "2026-01-02T03:04:06Z"}}},
            ]
        },
    }
    context = pod_log_context(pod, "abc-n0-0")
    assert context.primary_pod_name == "abc-n0-0"
    (entry,) = context.pods
    assert (entry.namespace, entry.pod_name, entry.primary_container_name) == (
        "flytesnacks-development", "abc-n0-0", "abc-n0-0",
    )  # fmt: skip
    primary, sidecar = entry.containers
    assert primary.process.container_start_time.ToDatetime(UTC) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert primary.process.container_end_time.ToDatetime(UTC) == datetime(2026, 1, 2, 3, 4, 9, tzinfo=UTC)
    assert sidecar.container_name == "sidecar" and not sidecar.process.HasField("container_end_time")
    assert [c.container_name for c in entry.init_containers] == ["setup"]


def test_a_pending_pod_is_named_before_its_containers_start() -> None:
    pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {"containers": [{"name": "c"}]}, "status": {}}
    (entry,) = pod_log_context(pod, "c").pods
    assert entry.pod_name == "p" and [c.container_name for c in entry.containers] == ["c"]
    assert not entry.containers[0].HasField("process")
