"""The `ray` backend: `ray` tasks as KubeRay RayJobs (ray.io/v1): a Ray cluster per task that runs the task as its job.

From the task's `plugins.RayJob` custom (written by flytekitplugins-ray, semantics §4.7): the head
group and worker groups (start params, replicas and their bounds, `k8s_pod` overlays), in-tree
autoscaling and its options, the runtime environment, and shutdown/TTL after the job. Head and
workers run the task's image with the task's pod settings; the entrypoint is the task's command.
The job and its runtime environment are read as the Kubernetes-free backend reads them (`plugins.common.ray`).

Phase from `status.jobDeploymentStatus`, every value KubeRay documents: "" (new) -> queued;
Initializing -> initializing; Running -> running; Complete -> success (failure if the job's own
status is FAILED); Failed, ValidationFailed -> permanent failure; Suspending, Suspended, Waiting ->
queued; Retrying -> initializing; anything newer -> running, with the status as the reason.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import yaml
from google.protobuf import json_format

from flyteidl_py.core import execution_pb2
from flyteidl_py.plugins import ray_pb2
from plugins.common.ray import ray_job, runtime_env_of
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition
from plugins.k8s.client import JSON, ResourceKind
from plugins.k8s.config import RayConfig
from plugins.k8s.logs import render_link
from plugins.k8s.manager import ConfiguredBackend, KubePlugin, backend_plugin
from plugins.k8s.pod import build_pod, deep_merge
from plugins.k8s.resources import container_resources, merge_resources

RAY_JOB = ResourceKind("ray.io/v1", "RayJob", "rayjobs")
TASK_TYPES = ("ray",)
HEAD_CONTAINER = "ray-head"
WORKER_CONTAINER = "ray-worker"
PORTS = [
    {"name": "redis", "containerPort": 6379},
    {"name": "head", "containerPort": 10001},
    {"name": "dashboard", "containerPort": 8265},
]
_UPSCALING = {
    ray_pb2.AutoscalerOptions.UPSCALING_MODE_DEFAULT: "Default",
    ray_pb2.AutoscalerOptions.UPSCALING_MODE_AGGRESSIVE: "Aggressive",
    ray_pb2.AutoscalerOptions.UPSCALING_MODE_CONSERVATIVE: "Conservative",
}


def _group_pod(pod: JSON, primary: str, container_name: str, overlay: Any, config: RayConfig) -> JSON:
    """A head/worker pod template: the task's pod with the primary container renamed and its command cleared."""
    spec = dict(pod["spec"])
    containers = []
    for given in spec["containers"]:
        container = dict(given)
        if container["name"] == primary:
            container["name"] = container_name
            container.pop("command", None)
            container.pop("args", None)
            container["ports"] = PORTS
            env = [e for e in container.get("env") or [] if e["name"] not in ("MY_POD_IP", "MY_POD_NAME")]
            env.append({"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
            container["env"] = env
        containers.append(container)
    spec["containers"] = containers
    spec.pop("restartPolicy", None)  # KubeRay manages its pods' restarts
    metadata = {k: v for k, v in (pod.get("metadata") or {}).items() if k in ("labels", "annotations")}
    template: JSON = {"metadata": metadata, "spec": spec}
    if overlay is not None and overlay.HasField("pod_spec"):
        extra = json_format.MessageToDict(overlay.pod_spec)
        extra_containers = extra.pop("containers", []) or []
        template["spec"] = deep_merge(spec, extra)
        primary_name = overlay.primary_container_name or container_name
        by_name = {c.get("name"): c for c in extra_containers}
        overlay_container = by_name.get(primary_name) or by_name.get(container_name)
        if overlay_container is not None:
            if overlay_container.get("resources"):  # the group's own resources, under the platform caps
                given = overlay_container["resources"]
                overlay_container = {
                    **overlay_container,
                    "resources": merge_resources(
                        {str(k): str(v) for k, v in (given.get("requests") or {}).items()},
                        {str(k): str(v) for k, v in (given.get("limits") or {}).items()},
                        config,
                    ),
                }
            template["spec"]["containers"] = [
                deep_merge(c, {**overlay_container, "name": container_name}) if c["name"] == container_name else c
                for c in template["spec"]["containers"]
            ]
        if overlay.HasField("metadata"):
            template["metadata"] = {
                "labels": {**metadata.get("labels", {}), **overlay.metadata.labels},
                "annotations": {**metadata.get("annotations", {}), **overlay.metadata.annotations},
            }
    return template


def _start_params(base: Mapping[str, str], defaults: Mapping[str, str], config: RayConfig) -> dict[str, str]:
    """The group's own start params, else the configured defaults, plus what every node needs."""
    params = dict(base) if base else dict(defaults)
    params.setdefault("node-ip-address", "$MY_POD_IP")
    if not config.enable_usage_stats:
        params.setdefault("disable-usage-stats", "true")
    return params


class RayBackend(ConfiguredBackend[RayConfig]):
    """Builds a task's RayJob and reads its phase (a `ResourceBackend` for the manager)."""

    kind: ResourceKind = RAY_JOB

    async def build_resource(self, ctx: TaskExecutionContext) -> JSON:
        job = ray_job(ctx)
        cluster = job.ray_cluster
        namespace = self._manager.namespace(ctx)
        pod, primary = await build_pod(ctx, self.config, namespace)
        container = next(c for c in pod["spec"]["containers"] if c["name"] == primary)
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if not argv:
            raise BadTaskDefinition("a ray task needs a command to submit as the Ray job's entrypoint")
        config = self.config
        if config.service_account:
            pod["spec"]["serviceAccountName"] = config.service_account

        head_overlay = cluster.head_group_spec.k8s_pod if cluster.head_group_spec.HasField("k8s_pod") else None
        head_params = _start_params(cluster.head_group_spec.ray_start_params, config.default_head_start_params, config)
        head_params.setdefault("dashboard-host", config.dashboard_host)
        if config.include_dashboard:
            head_params.setdefault("include-dashboard", "true")
        head: JSON = {
            "serviceType": config.service_type,
            "enableIngress": True,
            "rayStartParams": head_params,
            "template": _group_pod(pod, primary, HEAD_CONTAINER, head_overlay, config),
        }
        workers = []
        for group in cluster.worker_group_spec:
            overlay = group.k8s_pod if group.HasField("k8s_pod") else None
            template = _group_pod(pod, primary, WORKER_CONTAINER, overlay, config)
            for c in template["spec"]["containers"]:
                if c["name"] == WORKER_CONTAINER:
                    c["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "ray stop"]}}}
                    c["env"] = [
                        *c["env"],
                        {"name": "RAY_DISABLE_DOCKER_CPU_WARNING", "value": "1"},
                        {"name": "TYPE", "value": "worker"},
                        {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    ]
            replicas = max(group.replicas, 0)
            workers.append({
                "groupName": group.group_name or "worker",
                "replicas": replicas,
                "minReplicas": min(group.min_replicas, replicas),
                "maxReplicas": max(group.max_replicas, replicas),
                "rayStartParams": _start_params(group.ray_start_params, config.default_worker_start_params, config),
                "template": template,
            })  # fmt: skip
        cluster_spec: JSON = {"headGroupSpec": head, "workerGroupSpecs": workers}
        if cluster.enable_autoscaling:
            cluster_spec["enableInTreeAutoscaling"] = True
        if cluster.HasField("autoscaler_options"):
            cluster_spec["autoscalerOptions"] = self._autoscaler(cluster.autoscaler_options)

        shutdown = job.shutdown_after_job_finishes or config.shutdown_after_job_finishes
        ttl = job.ttl_seconds_after_finished if job.shutdown_after_job_finishes else config.ttl_seconds_after_finished
        submitter = _group_pod(pod, primary, "ray-job-submitter", None, config)
        for c in submitter["spec"]["containers"]:
            c.pop("ports", None)
        submitter["spec"]["restartPolicy"] = "Never"
        spec: JSON = {
            "entrypoint": shlex.join(argv),
            "shutdownAfterJobFinishes": shutdown,
            "ttlSecondsAfterFinished": max(ttl, 0),
            "rayClusterSpec": cluster_spec,
            "submitterPodTemplate": submitter,
        }
        runtime_env = runtime_env_of(job)
        if runtime_env:
            spec["runtimeEnvYAML"] = yaml.safe_dump(runtime_env, sort_keys=True)
        return {"apiVersion": self.kind.api_version, "kind": self.kind.kind, "metadata": {}, "spec": spec}

    def _autoscaler(self, options: ray_pb2.AutoscalerOptions) -> JSON:
        out: JSON = {}
        if options.upscaling_mode in _UPSCALING:
            out["upscalingMode"] = _UPSCALING[options.upscaling_mode]
        if options.idle_timeout_seconds:
            out["idleTimeoutSeconds"] = options.idle_timeout_seconds
        if options.image:
            out["image"] = options.image
        if options.env:
            out["env"] = [{"name": e.key, "value": e.value} for e in options.env]
        if options.HasField("resources"):
            out["resources"] = container_resources(options.resources, self.config)
        return out

    def phase_of(self, ctx: TaskExecutionContext, resource: JSON, now: datetime) -> Transition:
        status = resource.get("status") or {}
        transition = job_phase(status, str((resource.get("metadata") or {}).get("name", "")))
        cluster = str(status.get("rayClusterName", ""))
        job_id = str(status.get("jobId", ""))
        info = {k: v for k, v in (("rayClusterName", cluster), ("rayJobID", job_id)) if v}
        logs = []
        values = {
            "rayClusterName": cluster,
            "rayJobID": job_id,
            "namespace": str((resource.get("metadata") or {}).get("namespace", "")),
        }
        for template in self.config.logs.templates:
            logs.append(execution_pb2.TaskLog(uri=render_link(template.template, values), name=template.name))
        if transition.phase == Phase.RUNNING and self.config.dashboard_url_template:
            url = render_link(self.config.dashboard_url_template, values)
            logs.append(execution_pb2.TaskLog(uri=url, name="Ray Dashboard UI"))
        return replace(transition, logs=logs, custom_info=info or None)


def job_phase(status: Mapping[str, Any], name: str) -> Transition:
    """The phase of a RayJob from its status (see the module docstring)."""
    deployment = str(status.get("jobDeploymentStatus") or "")
    job_status = str(status.get("jobStatus") or "")
    detail = f"[{status.get('reason', '')}] {status.get('message', '')}".strip()
    if deployment == "":
        return Transition(Phase.QUEUED, reason="Scheduling")
    if deployment == "Initializing":
        return Transition(Phase.INITIALIZING, reason="cluster is creating")
    if deployment == "Running":
        return Transition(Phase.RUNNING, reason=f"job {job_status.lower() or 'running'}")
    if deployment == "Complete":
        if job_status == "FAILED":
            return Transition.failure(
                "TaskFailedWithError", f"Failed to run Ray job {name} with error: {detail}", retryable=False
            )
        return Transition(Phase.SUCCESS, reason="job completed")
    if deployment in ("Failed", "ValidationFailed"):
        return Transition.failure(
            "TaskFailedWithError", f"Failed to run Ray job {name} with error: {detail}", retryable=False
        )
    if deployment in ("Suspending", "Suspended", "Waiting"):
        return Transition(Phase.QUEUED, reason=f"job {deployment.lower()}")
    if deployment == "Retrying":
        return Transition(Phase.INITIALIZING, reason="job retrying on a new cluster")
    return Transition(Phase.RUNNING, reason=f"job deployment status {deployment}")


def create(config: Mapping[str, Any]) -> KubePlugin:
    """The factory the registry calls with `plugins.backends.ray` (a `RayConfig`)."""
    return backend_plugin("ray", TASK_TYPES, RayBackend, RayConfig, config)
