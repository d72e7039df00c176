"""Phase mapping of every status the operators document: Pods (kubelet), SparkApplications, RayJobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2
from plugins.core import Phase
from plugins.k8s.config import PodConfig
from plugins.k8s.pod import PodStatusUnknown, pod_phase
from plugins.k8s.ray import job_phase
from plugins.k8s.spark import application_phase

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
USER, SYSTEM = execution_pb2.ExecutionError.USER, execution_pb2.ExecutionError.SYSTEM
CONFIG = PodConfig(image_pull_backoff_grace_seconds=180, create_container_error_grace_seconds=60,
                   create_container_config_error_grace_seconds=30, pod_pending_timeout_seconds=600)  # fmt: skip


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def pod(
    phase: str, *, statuses: list[dict[str, Any]] | None = None, created: float = 10, **status: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "annotations": {"primary_container_name": "main"}, "creationTimestamp": ago(created)},
        "spec": {"containers": [{"name": "main"}, {"name": "side"}]},
        "status": {"phase": phase, "containerStatuses": statuses or [], **status},
    }


def terminated(name: str, exit_code: int, reason: str = "", last: bool = False) -> dict[str, Any]:
    state = {"terminated": {"exitCode": exit_code, "reason": reason, "message": "bye"}}
    return {"name": name, "ready": False, "lastState" if last else "state": state, **({"state": {}} if last else {})}


def waiting(name: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"name": name, "ready": False, "state": {"waiting": {"reason": reason, "message": message}}}


def not_ready(since: float) -> list[dict[str, Any]]:
    return [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": ago(since)},
    ]


def running(name: str) -> dict[str, Any]:
    return {"name": name, "ready": True, "state": {"running": {"startedAt": ago(5)}}}


CASES = [
    # Succeeded
    ("succeeded", pod("Succeeded", statuses=[terminated("main", 0, "Completed")]), Phase.SUCCESS, None, None),
    ("succeeded despite an OOMKilled container", pod("Succeeded", statuses=[terminated("side", 137, "OOMKilled")]),
     Phase.RETRYABLE_FAILURE, "OOMKilled", USER),
    # Failed
    ("failed with a non-zero exit", pod("Failed", statuses=[terminated("main", 1, "Error")], reason="Error"),
     Phase.RETRYABLE_FAILURE, "Error", USER),
    ("failed with OOMKilled", pod("Failed", statuses=[terminated("main", 137, "OOMKilled")]),
     Phase.RETRYABLE_FAILURE, "OOMKilled", USER),
    ("failed with OOMKilled and a pod reason", pod("Failed", statuses=[terminated("main", 137, "OOMKilled")],
     reason="Error"), Phase.RETRYABLE_FAILURE, "OOMKilled", USER),
    ("primary killed by SIGKILL", pod("Failed", statuses=[terminated("main", 137, "Error")], reason="Error"),
     Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("sidecar killed by SIGKILL", pod("Failed", statuses=[terminated("side", 247, "Error")], reason="Error"),
     Phase.RETRYABLE_FAILURE, "Interrupted", USER),
    ("evicted", pod("Failed", reason="Evicted", message="The node was low on resource: memory."),
     Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("preempted", pod("Failed", reason="Preempting"), Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("disruption target", pod("Failed", reason="Error", conditions=[
        {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]),
     Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("node shutdown", pod("Failed", reason="NodeShutdown"), Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("node affinity", pod("Failed", reason="NodeAffinity"), Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("shutdown", pod("Failed", reason="Shutdown"), Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("terminated", pod("Failed", reason="Terminated"), Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("unexpected admission error", pod("Failed", reason="UnexpectedAdmissionError"),
     Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("failed without a reason", pod("Failed"), Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
    ("deadline exceeded", pod("Failed", reason="DeadlineExceeded"), Phase.RETRYABLE_FAILURE, "DeadlineExceeded", USER),
    # Pending
    ("unschedulable", pod("Pending", conditions=[{"type": "PodScheduled", "status": "False",
     "reason": "Unschedulable", "message": "0/3 nodes are available"}]), Phase.QUEUED, None, None),
    ("scheduling", pod("Pending"), Phase.QUEUED, None, None),
    ("container creating", pod("Pending", statuses=[waiting("main", "ContainerCreating")], conditions=not_ready(5)),
     Phase.INITIALIZING, None, None),
    ("pod initializing", pod("Pending", statuses=[waiting("main", "PodInitializing")], conditions=not_ready(5)),
     Phase.INITIALIZING, None, None),
    ("image pulling failed once", pod("Pending", statuses=[waiting("main", "ErrImagePull")], conditions=not_ready(500)),
     Phase.INITIALIZING, None, None),
    ("image pull back-off within grace", pod("Pending", statuses=[waiting("main", "ImagePullBackOff")],
     conditions=not_ready(60)), Phase.INITIALIZING, None, None),
    ("image pull back-off past grace", pod("Pending", statuses=[waiting("main", "ImagePullBackOff", "no such image")],
     conditions=not_ready(200)), Phase.RETRYABLE_FAILURE, "ContainersNotReady|ImagePullBackOff", USER),
    ("invalid image name", pod("Pending", statuses=[waiting("main", "InvalidImageName")], conditions=not_ready(1)),
     Phase.PERMANENT_FAILURE, "ContainersNotReady|InvalidImageName", USER),
    ("create container error within grace", pod("Pending", statuses=[waiting("main", "CreateContainerError")],
     conditions=not_ready(10)), Phase.INITIALIZING, None, None),
    ("create container error past grace", pod("Pending", statuses=[waiting("main", "CreateContainerError")],
     conditions=not_ready(61)), Phase.PERMANENT_FAILURE, "ContainersNotReady|CreateContainerError", USER),
    ("config error within grace", pod("Pending", statuses=[waiting("main", "CreateContainerConfigError")],
     conditions=not_ready(10)), Phase.INITIALIZING, None, None),
    ("config error past grace", pod("Pending", statuses=[waiting("main", "CreateContainerConfigError",
     "secret not found")], conditions=not_ready(31)), Phase.PERMANENT_FAILURE,
     "ContainersNotReady|CreateContainerConfigError", USER),
    ("another waiting reason", pod("Pending", statuses=[waiting("main", "RunContainerError")], conditions=not_ready(1)),
     Phase.RETRYABLE_FAILURE, "ContainersNotReady|RunContainerError", SYSTEM),
    ("pending too long", pod("Pending", created=601), Phase.RETRYABLE_FAILURE, "PodPendingTimeout", SYSTEM),
    # Running
    ("primary running", pod("Running", statuses=[running("main"), running("side")]), Phase.RUNNING, None, None),
    ("primary not started yet", pod("Running", statuses=[running("side")]), Phase.RUNNING, None, None),
    ("primary done, sidecar running", pod("Running", statuses=[terminated("main", 0), running("side")]),
     Phase.SUCCESS, None, None),
    ("primary failed, sidecar running", pod("Running", statuses=[terminated("main", 2, "Error"), running("side")]),
     Phase.RETRYABLE_FAILURE, "Error", USER),
    ("primary OOMKilled, sidecar running", pod("Running", statuses=[terminated("main", 137, "OOMKilled")]),
     Phase.RETRYABLE_FAILURE, "OOMKilled", USER),
    ("primary SIGKILLed, sidecar running", pod("Running", statuses=[terminated("main", 137, "Error")]),
     Phase.RETRYABLE_FAILURE, "Interrupted", SYSTEM),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "expected_phase", "code", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_pod_status_maps_to_phase(
    status: dict[str, Any], expected_phase: Phase, code: str | None, kind: int | None
) -> None:
    transition = pod_phase(status, CONFIG, NOW)
    assert transition.phase is expected_phase, transition.reason
    if code is not None:
        assert transition.error is not None
        assert transition.error.code == code
        assert transition.error.kind == kind


def test_primary_container_missing_from_the_pod_is_permanent() -> None:
    broken = pod("Running", statuses=[running("side")])
    broken["spec"]["containers"] = [{"name": "side"}]
    transition = pod_phase(broken, CONFIG, NOW)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert transition.error is not None and transition.error.code == "PrimaryContainerNotFound"


def test_failure_message_names_each_terminated_container() -> None:
    transition = pod_phase(pod("Failed", statuses=[terminated("main", 3, "Error")], reason="Error"), CONFIG, NOW)
    assert "[main] terminated with exit code (3). Reason [Error]" in transition.reason


def test_unknown_pod_phase_fails_the_round_as_flyte_does() -> None:
    with pytest.raises(PodStatusUnknown, match="NodeLost"):
        pod_phase(pod("Unknown", reason="NodeLost"), CONFIG, NOW)


SPARK = [
    ("", Phase.QUEUED), ("NEW", Phase.QUEUED), ("SUBMITTED", Phase.INITIALIZING),
    ("PENDING_SUBMISSION", Phase.INITIALIZING), ("PENDING_RERUN", Phase.INITIALIZING), ("RUNNING", Phase.RUNNING),
    ("SUCCEEDING", Phase.RUNNING), ("FAILING", Phase.RUNNING), ("INVALIDATING", Phase.RUNNING),
    ("UNKNOWN", Phase.RUNNING), ("COMPLETED", Phase.SUCCESS), ("FAILED", Phase.RETRYABLE_FAILURE),
    ("SUBMISSION_FAILED", Phase.RETRYABLE_FAILURE), ("FAILED_SUBMISSION", Phase.RETRYABLE_FAILURE),
]  # fmt: skip


@pytest.mark.parametrize(("state", "expected"), SPARK, ids=[s or "empty" for s, _ in SPARK])
def test_spark_application_state_maps_to_phase(state: str, expected: Phase) -> None:
    transition = application_phase({"applicationState": {"state": state, "errorMessage": "driver died"}})
    assert transition.phase is expected
    if expected.is_failure:
        assert transition.error is not None
        assert transition.error.code == "DownstreamSystemError"
        assert "driver died" in transition.error.message


def test_spark_application_without_status_is_queued() -> None:
    assert application_phase({}).phase is Phase.QUEUED


RAY = [
    ("", "", Phase.QUEUED), ("Initializing", "", Phase.INITIALIZING), ("Running", "RUNNING", Phase.RUNNING),
    ("Complete", "SUCCEEDED", Phase.SUCCESS), ("Complete", "FAILED", Phase.PERMANENT_FAILURE),
    ("Failed", "FAILED", Phase.PERMANENT_FAILURE), ("ValidationFailed", "", Phase.PERMANENT_FAILURE),
    ("Suspending", "", Phase.QUEUED), ("Suspended", "", Phase.QUEUED), ("Waiting", "", Phase.QUEUED),
    ("Retrying", "", Phase.INITIALIZING), ("SomethingNew", "", Phase.RUNNING),
]  # fmt: skip


@pytest.mark.parametrize(("deployment", "job", "expected"), RAY, ids=[f"{d or 'new'}-{j}" for d, j, _ in RAY])
def test_ray_job_deployment_status_maps_to_phase(deployment: str, job: str, expected: Phase) -> None:
    status = {"jobDeploymentStatus": deployment, "jobStatus": job, "reason": "AppFailed", "message": "boom"}
    transition = job_phase(status, "rj")
    assert transition.phase is expected
    if expected.is_failure:
        assert transition.error is not None
        assert transition.error.code == "TaskFailedWithError"
        assert transition.error.message == "Failed to run Ray job rj with error: [AppFailed] boom"
