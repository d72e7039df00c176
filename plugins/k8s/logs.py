"""Where a task's pod logs are: links from configured templates (kubectl-, dashboard-, CloudWatch- and
Stackdriver-style) and the pod's log context (namespace, pod, containers), from which admin reads the pod log API.

Templates use Flyte's variables (`{{ .podName }}`, `{{ .namespace }}`, `{{ .containerName }}`,
`{{ .containerId }}`, `{{ .podUnixStartTime }}`, ... see `LogTemplate`), matched case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import timestamp_pb2

from flyteidl_py.core import execution_pb2
from plugins.core import TaskExecutionContext
from plugins.k8s.config import LogConfig, LogTemplate
from plugins.k8s.manager import parse_time

_VARIABLE = re.compile(r"\{\{\s*[.$]?\s*([A-Za-z_]\w*)\s*\}\}")

KUBERNETES_TEMPLATE = "{{ .kubernetesURL }}/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}"
KUBECTL_TEMPLATE = "kubectl logs --namespace {{ .namespace }} {{ .podName }} --container {{ .containerName }}"
CLOUDWATCH_TEMPLATE = (
    "https://console.aws.amazon.com/cloudwatch/home?region={{ .region }}#logEventViewer:group={{ .logGroup }};"
    "stream=var.log.containers.{{ .podName }}_{{ .namespace }}_{{ .containerName }}-{{ .containerId }}.log"
)
STACKDRIVER_TEMPLATE = (
    "https://console.cloud.google.com/logs/viewer?project={{ .gcpProject }}&angularJsUrl=%2Flogs%2Fviewer%3F"
    "project%3D{{ .gcpProject }}&resource={{ .logResourceName }}&advancedFilter=resource.labels.pod_name"
    "%3D{{ .podName }}"
)


def templates_of(config: LogConfig) -> list[LogTemplate]:
    """Every enabled log template, built-in kinds first."""
    out: list[LogTemplate] = []
    if config.kubernetes_enabled:
        out.append(LogTemplate(name="Kubernetes Logs", template=KUBERNETES_TEMPLATE))
    if config.kubectl_enabled:
        out.append(LogTemplate(name="kubectl logs", template=KUBECTL_TEMPLATE))
    if config.cloudwatch_enabled:
        out.append(LogTemplate(name="Cloudwatch Logs", template=CLOUDWATCH_TEMPLATE))
    if config.stackdriver_enabled:
        out.append(LogTemplate(name="Stackdriver Logs", template=STACKDRIVER_TEMPLATE))
    return [*out, *config.templates]


def render_link(template: str, values: Mapping[str, str]) -> str:
    lowered = {k.lower(): v for k, v in values.items()}
    return _VARIABLE.sub(lambda m: lowered.get(m.group(1).lower(), m.group(0)), template)


def _unix(text: str | None) -> str:
    when = parse_time(text)
    return str(int(when.timestamp())) if when is not None else ""


def pod_log_links(
    ctx: TaskExecutionContext,
    config: LogConfig,
    pod: Mapping[str, Any],
    container: str,
    *,
    suffix: str = "",
    extra: Mapping[str, str] | None = None,
) -> list[execution_pb2.TaskLog]:
    """The links of `container` in `pod` (an API object), named `<template name><suffix>`."""
    templates = templates_of(config)
    if not templates:
        return []
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    container_id = ""
    finished = ""
    for entry in status.get("containerStatuses") or []:
        if entry.get("name") == container:
            container_id = str(entry.get("containerID", "")).split("://", 1)[-1]
            finished = ((entry.get("state") or {}).get("terminated") or {}).get("finishedAt", "")
    ident = ctx.task_execution_id
    execution = ident.node_execution_id.execution_id
    started = status.get("startTime") or metadata.get("creationTimestamp") or ""
    values = {
        "podName": str(metadata.get("name", "")),
        "podUID": str(metadata.get("uid", "")),
        "namespace": str(metadata.get("namespace", "")),
        "containerName": container,
        "containerId": container_id,
        "hostname": str((pod.get("spec") or {}).get("nodeName", "")),
        "podRFC3339StartTime": str(started),
        "podRFC3339FinishTime": str(finished),
        "podUnixStartTime": _unix(started),
        "podUnixFinishTime": _unix(finished),
        "executionName": execution.name,
        "executionProject": execution.project,
        "executionDomain": execution.domain,
        "nodeId": ident.node_execution_id.node_id,
        "taskName": ident.task_id.name,
        "taskRetryAttempt": str(ident.retry_attempt),
        "generatedName": ctx.generated_name,
        "kubernetesURL": config.kubernetes_url.rstrip("/"),
        "region": config.cloudwatch_region,
        "logGroup": config.cloudwatch_log_group,
        "gcpProject": config.gcp_project,
        "logResourceName": config.stackdriver_log_resource_name,
        **(extra or {}),
    }
    return [execution_pb2.TaskLog(uri=render_link(t.template, values), name=f"{t.name}{suffix}") for t in templates]


def _container_contexts(pod: Mapping[str, Any], spec_key: str, status_key: str) -> list[execution_pb2.ContainerContext]:
    statuses = {entry.get("name"): entry for entry in (pod.get("status") or {}).get(status_key) or []}
    contexts = []
    for container in (pod.get("spec") or {}).get(spec_key) or []:
        name = str(container.get("name", ""))
        context = execution_pb2.ContainerContext(container_name=name)
        state = (statuses.get(name) or {}).get("state") or {}
        started = (state.get("running") or state.get("terminated") or {}).get("startedAt")
        finished = (state.get("terminated") or {}).get("finishedAt")
        for when, field in ((started, "container_start_time"), (finished, "container_end_time")):
            moment = parse_time(when)
            if moment is not None:
                stamp = timestamp_pb2.Timestamp()
                stamp.FromDatetime(moment)
                getattr(context.process, field).CopyFrom(stamp)
        contexts.append(context)
    return contexts


def pod_log_context(pod: Mapping[str, Any], primary: str) -> execution_pb2.LogContext:
    """Flyte's log context of one pod (an API object): its namespace and name, its containers and their run times."""
    metadata = pod.get("metadata") or {}
    name = str(metadata.get("name", ""))
    context = execution_pb2.PodLogContext(
        namespace=str(metadata.get("namespace", "")),
        pod_name=name,
        containers=_container_contexts(pod, "containers", "containerStatuses"),
        primary_container_name=primary,
        init_containers=_container_contexts(pod, "initContainers", "initContainerStatuses"),
    )
    return execution_pb2.LogContext(pods=[context], primary_pod_name=name)
