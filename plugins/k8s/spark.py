"""The `spark` backend: `spark` tasks as SparkApplications for the spark-operator (sparkoperator.k8s.io/v1beta2).

The task's `plugins.SparkJob` custom (written by flytekitplugins-spark) gives the application
type, main file or class, Spark and Hadoop conf, and driver/executor pod overlays (semantics §4.6).
The driver and executor are described from the task's pod (`plugins.k8s.pod.build_pod`): the
driver forced non-interruptible, the executor interruptible when the task is. The job and its conf
are read as the Kubernetes-free backend reads them (`plugins.common.spark`).

Phase from `status.applicationState.state`, every state the operator documents: "" / NEW ->
queued; SUBMITTED, PENDING_SUBMISSION, PENDING_RERUN -> initializing; RUNNING, SUCCEEDING,
FAILING, INVALIDATING, UNKNOWN -> running; COMPLETED -> success; FAILED, SUBMISSION_FAILED
(FAILED_SUBMISSION in older operators) -> retryable failure "DownstreamSystemError".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from google.protobuf import json_format

from flyteidl_py.core import execution_pb2
from flyteidl_py.plugins import spark_pb2
from plugins.common.spark import spark_conf, spark_job
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition
from plugins.k8s.client import JSON, ResourceKind
from plugins.k8s.config import SparkConfig
from plugins.k8s.logs import pod_log_links
from plugins.k8s.manager import ConfiguredBackend, KubePlugin, backend_plugin
from plugins.k8s.pod import build_pod, deep_merge

SPARK_APPLICATION = ResourceKind("sparkoperator.k8s.io/v1beta2", "SparkApplication", "sparkapplications")
TASK_TYPES = ("spark",)
DRIVER_CONTAINER = "spark-kubernetes-driver"
_APPLICATION_TYPES = {
    spark_pb2.SparkApplication.PYTHON: "Python",
    spark_pb2.SparkApplication.JAVA: "Java",
    spark_pb2.SparkApplication.SCALA: "Scala",
    spark_pb2.SparkApplication.R: "R",
}
# Pod fields a SparkApplication's driver/executor spec takes over as they are.
_POD_FIELDS = ("affinity", "tolerations", "nodeSelector", "schedulerName", "dnsConfig", "hostNetwork")


def _int(conf: Mapping[str, str], key: str, default: int) -> int:
    try:
        return max(1, int(float(conf.get(key, default))))
    except ValueError as exc:
        raise BadTaskDefinition(f"{key} must be a number, got {conf[key]!r}") from exc


def _overlay(pod: JSON, overlay: Any, primary: str) -> JSON:
    """A driver/executor `K8sPod` from the SparkJob over the task's pod; its primary container over ours."""
    if overlay is None:
        return pod
    spec = pod["spec"]
    if overlay.HasField("pod_spec"):
        extra = json_format.MessageToDict(overlay.pod_spec)
        extra_primary = overlay.primary_container_name or primary
        containers = extra.pop("containers", []) or []
        spec = deep_merge(spec, extra)
        for container in containers:
            if container.get("name") == extra_primary:
                spec["containers"] = [
                    deep_merge(c, {**container, "name": c["name"]}) if c["name"] == primary else c
                    for c in spec["containers"]
                ]
    metadata = dict(pod.get("metadata") or {})
    if overlay.HasField("metadata"):
        metadata["labels"] = {**(metadata.get("labels") or {}), **overlay.metadata.labels}
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **overlay.metadata.annotations}
    return {**pod, "metadata": metadata, "spec": spec}


def _role(pod: JSON, primary: str, service_account: str, labels: JSON, annotations: JSON) -> JSON:
    """The driver or executor section of a SparkApplication from a pod (and Flyte's labels and annotations)."""
    spec = pod["spec"]
    container = next(c for c in spec["containers"] if c["name"] == primary)
    metadata = pod.get("metadata") or {}
    own_annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != "primary_container_name"}
    role: JSON = {
        "image": container.get("image"),
        "serviceAccount": spec.get("serviceAccountName") or service_account,
        "labels": {**labels, **(metadata.get("labels") or {})},
        "annotations": {**annotations, **own_annotations},
        "env": container.get("env") or [],
    }
    if container.get("envFrom"):
        role["envFrom"] = container["envFrom"]
    if container.get("securityContext"):
        role["securityContext"] = container["securityContext"]
    if spec.get("securityContext"):
        role["podSecurityContext"] = spec["securityContext"]
    if container.get("volumeMounts"):
        role["volumeMounts"] = container["volumeMounts"]
    for key in _POD_FIELDS:
        if spec.get(key) not in (None, [], {}):
            role[key] = spec[key]
    return {k: v for k, v in role.items() if v not in (None, "")}


class SparkBackend(ConfiguredBackend[SparkConfig]):
    """Builds a task's SparkApplication and reads its phase (a `ResourceBackend` for the manager)."""

    kind: ResourceKind = SPARK_APPLICATION

    async def build_resource(self, ctx: TaskExecutionContext) -> JSON:
        job = spark_job(ctx)
        if not job.mainApplicationFile:
            raise BadTaskDefinition("the spark-operator needs a main application file (mainApplicationFile)")
        namespace = self._manager.namespace(ctx)
        env = {"FLYTE_MAX_ATTEMPTS": str(ctx.max_attempts)}
        driver_pod, primary = await build_pod(ctx, self.config, namespace, interruptible=False, extra_env=env)
        executor_pod, _ = await build_pod(ctx, self.config, namespace, extra_env=env)
        driver_pod = _overlay(driver_pod, job.driverPod if job.HasField("driverPod") else None, primary)
        executor_pod = _overlay(executor_pod, job.executorPod if job.HasField("executorPod") else None, primary)
        container = next(c for c in driver_pod["spec"]["containers"] if c["name"] == primary)

        conf = spark_conf(job, self.config.spark_config_default, self.config.features)
        conf["spark.kubernetes.executor.podNamePrefix"] = self._manager.object_name(ctx.generated_name)
        conf["spark.kubernetes.driverEnv.FLYTE_START_TIME"] = str(int(time.time() * 1000))
        account = self.config.default_service_account
        labels = {**self._manager.config.default_labels, **self._manager.labels(ctx)}
        annotations = self._manager.annotations(ctx)
        driver = _role(driver_pod, primary, account, labels, {**annotations})
        driver["cores"] = _int(conf, "spark.driver.cores", 1)
        executor = _role(executor_pod, primary, account, labels, annotations)
        executor["cores"] = _int(conf, "spark.executor.cores", 1)
        executor["instances"] = _int(conf, "spark.executor.instances", 1)
        for role, name, pod in (("driver", driver, driver_pod), ("executor", executor, executor_pod)):
            limits = next(c for c in pod["spec"]["containers"] if c["name"] == primary)["resources"]["limits"]
            if f"spark.{role}.memory" in conf:
                name["memory"] = conf[f"spark.{role}.memory"]
            limit = conf.get(f"spark.kubernetes.{role}.limit.cores") or limits.get("cpu")
            if limit:
                name["coreLimit"] = str(limit)
        spec: JSON = {
            "type": _APPLICATION_TYPES.get(job.applicationType, "Python"),
            "mode": "cluster",
            "image": container.get("image"),
            "imagePullPolicy": container.get("imagePullPolicy", self.config.image_pull_policy),
            "mainApplicationFile": job.mainApplicationFile,
            "arguments": list(container.get("args") or []),
            "sparkVersion": self.config.spark_version,
            "sparkConf": conf,
            "hadoopConf": dict(job.hadoopConf),
            "restartPolicy": {
                "type": "OnFailure",
                "onSubmissionFailureRetries": self.config.submission_failure_retries,
            },
            "driver": driver,
            "executor": executor,
        }
        if job.mainClass:
            spec["mainClass"] = job.mainClass
        if spec["type"] == "Python":
            spec["pythonVersion"] = "3"
        if "spark.batchScheduler" in conf:
            spec["batchScheduler"] = conf["spark.batchScheduler"]
        if driver_pod["spec"].get("volumes"):
            spec["volumes"] = driver_pod["spec"]["volumes"]
        if self.config.image_pull_secrets:
            spec["imagePullSecrets"] = list(self.config.image_pull_secrets)
        return {"apiVersion": self.kind.api_version, "kind": self.kind.kind, "metadata": {}, "spec": spec}

    def phase_of(self, ctx: TaskExecutionContext, resource: JSON, now: datetime) -> Transition:
        status = resource.get("status") or {}
        transition = application_phase(status)
        driver = status.get("driverInfo") or {}
        namespace = (resource.get("metadata") or {}).get("namespace", "")
        logs: list[execution_pb2.TaskLog] = []
        if driver.get("podName"):
            pod = {"metadata": {"name": driver["podName"], "namespace": namespace}, "status": {}}
            logs = pod_log_links(ctx, self.config.logs, pod, DRIVER_CONTAINER, suffix=" (Driver)")
        info: dict[str, str] = {}
        if transition.phase == Phase.RUNNING and driver.get("webUIIngressAddress"):
            address = str(driver["webUIIngressAddress"])
            info["sparkDriverUI"] = address if address.startswith("http") else f"https://{address}"
            logs.append(execution_pb2.TaskLog(uri=info["sparkDriverUI"], name="Spark Driver UI"))
        elif transition.phase.is_terminal and self.config.spark_history_server_url and status.get("sparkApplicationId"):
            history = self.config.spark_history_server_url.rstrip("/")
            info["sparkHistoryUI"] = f"{history}/history/{status['sparkApplicationId']}"
            logs.append(execution_pb2.TaskLog(uri=info["sparkHistoryUI"], name="Spark History UI"))
        return replace(transition, logs=logs, custom_info=info or None)


def application_phase(status: Mapping[str, Any]) -> Transition:
    """The phase of a SparkApplication from its status (see the module docstring)."""
    state_info = status.get("applicationState") or {}
    state = str(state_info.get("state") or "")
    message = str(state_info.get("errorMessage") or "")
    if state in ("", "NEW"):
        return Transition(Phase.QUEUED, reason="job queued")
    if state in ("SUBMITTED", "PENDING_SUBMISSION", "PENDING_RERUN"):
        return Transition(Phase.INITIALIZING, reason="job submitted")
    if state in ("SUBMISSION_FAILED", "FAILED_SUBMISSION"):
        text = f"Spark Job  Submission Failed with Error: {message}"
        return Transition.failure("DownstreamSystemError", text, retryable=True)
    if state == "FAILED":
        return Transition.failure("DownstreamSystemError", f"Spark Job Failed with Error: {message}", retryable=True)
    if state == "COMPLETED":
        return Transition(Phase.SUCCESS, reason="job completed")
    return Transition(Phase.RUNNING, reason=f"job {state.lower()}")


def create(config: Mapping[str, Any]) -> KubePlugin:
    """The factory the registry calls with `plugins.backends.spark` (a `SparkConfig`)."""
    return backend_plugin("spark", TASK_TYPES, SparkBackend, SparkConfig, config)
