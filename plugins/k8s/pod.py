"""The `k8s-pod` backend: container and python tasks as Pods; also the pod building and reading other backends reuse.

Building (`build_pod`, Flyte's pod plugin, semantics §4.4): the task's container (or the primary
container of its `k8s_pod` target) with Flyte's template variables rendered, environment
(`FLYTE_INTERNAL_*`, `FLYTE_ATTEMPT_NUMBER`, execution envs, platform defaults), requests and
limits (`plugins.k8s.resources`), secrets as environment variables or files where flytekit looks
for them, restart policy Never, the service account, interruptible node selectors and
tolerations, and the platform's default pod template underneath. Co-pilot (`data_config`) is not
injected: raw containers read and write their data themselves.

Reading (`pod_phase`, Flyte's `DemystifyPodStatus`): Succeeded -> success unless a container was
OOMKilled; Failed -> a retryable user failure, or a retryable system failure for interruptions
(eviction, preemption, node shutdown, SIGKILL of the primary container); Pending -> queued or
initializing, with image pull and container creation errors permanent or retryable after their
grace periods; Running -> the primary container decides; Unknown -> `PodStatusUnknown` is raised,
failing the round as Flyte does, so propeller looks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from google.protobuf import json_format

from flyteidl_py.core import execution_pb2, security_pb2, tasks_pb2
from flyteplane.errors import Unavailable
from plugins.common.command import NO_PREVIOUS_CHECKPOINT, flyte_environment, render_for_attempt
from plugins.common.log_links import live_log_url
from plugins.config import CONTAINER_TASK_TYPES
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition, requested_secrets
from plugins.k8s.client import JSON, POD, ResourceKind
from plugins.k8s.config import PodConfig
from plugins.k8s.logs import pod_log_context, pod_log_links
from plugins.k8s.manager import (
    ConfiguredBackend,
    KubePlugin,
    backend_plugin,
    elapsed_since,
    parse_time,
)
from plugins.k8s.names import dns1123_label, is_dns1123_label
from plugins.k8s.resources import clamp_resources, container_resources, merge_resources

PRIMARY_CONTAINER_ANNOTATION = "primary_container_name"
SECRET_ENV_PREFIX = "_FSEC_"
SIGKILL_EXIT_CODES = (137, 247)
INTERRUPTED_POD_REASONS = frozenset({
    "Shutdown", "Terminated", "NodeShutdown", "NodeAffinity", "Evicted", "Preempting", "UnexpectedAdmissionError",
})  # fmt: skip


class PodStatusUnknown(Unavailable):
    """The API server does not know the pod's state (its node is unreachable): the round is retried."""


# -- building ---------------------------------------------------------------------------------------------


def _env_list(values: Mapping[str, str]) -> list[JSON]:
    return [{"name": k, "value": v} for k, v in values.items()]


def _merge_env(first: Iterable[JSON], second: Iterable[JSON]) -> list[JSON]:
    """Environment entries by name; a later entry replaces an earlier one in its place."""
    merged: dict[str, JSON] = {}
    for entry in [*first, *second]:
        merged[entry["name"]] = entry
    return list(merged.values())


def task_environment(ctx: TaskExecutionContext, config: PodConfig) -> dict[str, str]:
    """What propeller adds to a task container's environment (the platform defaults first)."""
    env = dict(config.default_env)
    env.update(flyte_environment(ctx))
    if config.console_url:
        execution = ctx.task_execution_id.node_execution_id.execution_id
        env["FLYTE_EXECUTION_URL"] = (
            f"{config.console_url.rstrip('/')}/projects/{execution.project}/domains/{execution.domain}"
            f"/executions/{execution.name}/nodeId/{ctx.task_execution_id.node_execution_id.node_id}/nodes"
        )
    env.update(ctx.environment)
    return env


def secret_injection(
    secrets: Sequence[security_pb2.Secret], mount_path: str
) -> tuple[list[JSON], list[JSON], list[JSON]]:
    """(env entries, volumes, volume mounts) that put each secret where flytekit's SecretsManager looks.

    The Kubernetes Secret is named after the group and holds the key; an environment secret becomes
    `_FSEC_<GROUP>[_<VERSION>]_<KEY>` (and `env_var` when the task names one), a file secret
    `<mount path>/<group>[/<version>]/<key>`.
    """
    env: list[JSON] = []
    volumes: dict[str, JSON] = {}
    mounts: dict[str, JSON] = {}
    if secrets:
        env.extend(
            _env_list({
                "FLYTE_SECRETS_ENV_PREFIX": SECRET_ENV_PREFIX,
                "FLYTE_SECRETS_DEFAULT_DIR": mount_path,
                "FLYTE_SECRETS_FILE_PREFIX": "",
            })
        )  # fmt: skip
    for secret in secrets:
        if not secret.group:
            raise BadTaskDefinition("a secret without a group cannot be mapped to a Kubernetes Secret")
        secret_name = dns1123_label(secret.group.lower())
        if secret.mount_requirement == security_pb2.Secret.FILE:
            volume = dns1123_label(f"secret-{secret_name}")
            directory = "/".join(p.lower() for p in (secret.group, secret.group_version) if p)
            entry = volumes.setdefault(volume, {"name": volume, "secret": {"secretName": secret_name, "items": []}})
            if secret.key:
                entry["secret"]["items"].append({"key": secret.key, "path": secret.key.lower()})
            mounts[volume] = {"name": volume, "mountPath": f"{mount_path.rstrip('/')}/{directory}", "readOnly": True}
            continue
        if not secret.key:
            raise BadTaskDefinition(f"environment secret of group {secret.group!r} needs a key")
        ref = {"secretKeyRef": {"name": secret_name, "key": secret.key}}
        parts = [p.upper() for p in (secret.group, secret.group_version, secret.key) if p]
        env.append({"name": SECRET_ENV_PREFIX + "_".join(parts), "valueFrom": ref})
        if secret.env_var:
            env.append({"name": secret.env_var, "valueFrom": ref})
    for entry in volumes.values():
        if not entry["secret"]["items"]:
            del entry["secret"]["items"]
    return env, list(volumes.values()), list(mounts.values())


def service_account(ctx: TaskExecutionContext, default: str) -> str:
    """The task's own run-as service account, else the execution's, else the platform default."""
    template = ctx.template
    if template.HasField("security_context") and template.security_context.run_as.k8s_service_account:
        return template.security_context.run_as.k8s_service_account
    run_as = getattr(ctx.security_context, "run_as", None)
    if run_as is not None and run_as.k8s_service_account:
        return str(run_as.k8s_service_account)
    return default


def deep_merge(base: Any, overlay: Any) -> Any:
    """`overlay` over `base`: mappings merged key by key, named lists (containers, env, volumes) by name."""
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = deep_merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(overlay, list):
        if all(isinstance(x, Mapping) and "name" in x for x in [*base, *overlay]):
            merged = {x["name"]: x for x in base}
            for x in overlay:
                merged[x["name"]] = deep_merge(merged[x["name"]], x) if x["name"] in merged else x
            return list(merged.values())
        if all(isinstance(x, Mapping) for x in [*base, *overlay]):
            return [*base, *(x for x in overlay if x not in base)]
    return overlay


def _apply_pod_template(pod: JSON, template: Mapping[str, Any] | None, primary: str) -> JSON:
    """The platform pod template underneath `pod`; its containers `default` (all) and `primary` (the primary)."""
    if not template:
        return pod
    base = dict(template)
    base_spec = dict(base.get("spec") or {})
    by_name = {c.get("name"): c for c in base_spec.pop("containers", []) or []}
    containers = []
    for container in pod["spec"]["containers"]:
        under = deep_merge(by_name.get("default", {}), by_name.get("primary", {})) if container["name"] == primary \
            else by_name.get("default", {})  # fmt: skip
        under = {k: v for k, v in under.items() if k != "name"}
        containers.append(deep_merge(under, container))
    merged: JSON = deep_merge({"metadata": base.get("metadata") or {}, "spec": base_spec}, pod)
    merged["spec"]["containers"] = containers
    return merged


def _container_from_task(container: tasks_pb2.Container, name: str) -> JSON:
    spec: JSON = {
        "name": name,
        "image": container.image,
        "command": list(container.command),
        "args": list(container.args),
        "env": _env_list({pair.key: pair.value for pair in container.env}),
    }
    if container.ports:
        spec["ports"] = [{"containerPort": p.container_port, **({"name": p.name} if p.name else {})}
                         for p in container.ports]  # fmt: skip
    return spec


def primary_container_name(template: tasks_pb2.TaskTemplate) -> str:
    return template.k8s_pod.primary_container_name or template.config.get("primary_container_name", "")


async def build_pod(
    ctx: TaskExecutionContext,
    config: PodConfig,
    namespace: str,
    *,
    interruptible: bool | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[JSON, str]:
    """The Pod (apiVersion, kind, metadata, spec) for this attempt, and the name of its primary container."""
    template = ctx.template
    target = template.WhichOneof("target")
    metadata: JSON = {"labels": {}, "annotations": {}}
    resources_source = ctx.resources
    if target == "container":
        name = ctx.generated_name if is_dns1123_label(ctx.generated_name) else dns1123_label(ctx.generated_name)
        spec: JSON = {"containers": [_container_from_task(template.container, name)]}
        primary = name
        if resources_source is None:
            resources_source = template.container.resources
    elif target == "k8s_pod":
        spec = json_format.MessageToDict(template.k8s_pod.pod_spec)
        primary = primary_container_name(template)
        if not primary:
            raise BadTaskDefinition("a k8s_pod task must name its primary container (primary_container_name)")
        if primary not in [c.get("name") for c in spec.get("containers") or []]:
            raise BadTaskDefinition(f"the pod spec has no container named {primary!r} (the primary container)")
        metadata["labels"].update(template.k8s_pod.metadata.labels)
        metadata["annotations"].update(template.k8s_pod.metadata.annotations)
    else:
        raise BadTaskDefinition(f"task type {template.type!r} has neither a container nor a pod to run")
    if template.HasField("metadata") and template.metadata.pod_template_name:
        metadata["annotations"]["flyte.org/pod-template-name"] = template.metadata.pod_template_name
    metadata["annotations"][PRIMARY_CONTAINER_ANNOTATION] = primary

    env = _env_list({**task_environment(ctx, config), **(extra_env or {})})
    secret_env, secret_volumes, secret_mounts = secret_injection(requested_secrets(template), config.secrets_mount_path)
    env_from = [{"secretRef": {"name": s}} for s in config.default_env_from_secrets] + [
        {"configMapRef": {"name": c}} for c in config.default_env_from_configmaps
    ]
    containers = []
    for given_container in spec.get("containers") or []:
        container = dict(given_container)
        for key in ("command", "args"):
            argv = container.get(key) or []
            rendered = await render_for_attempt(
                ctx, argv, namespace=namespace, no_previous_checkpoint=NO_PREVIOUS_CHECKPOINT
            )
            if rendered:
                container[key] = rendered
            else:
                container.pop(key, None)
        container["env"] = _merge_env(container.get("env") or [], [*env, *secret_env])
        if env_from:
            container["envFrom"] = [*(container.get("envFrom") or []), *env_from]
        if container["name"] == primary:
            if resources_source is not None and (resources_source.requests or resources_source.limits):
                container["resources"] = container_resources(resources_source, config)
            else:  # a pod spec's own resources (or none), under the same defaults and caps
                given = container.get("resources") or {}
                container["resources"] = merge_resources(
                    {str(k): str(v) for k, v in (given.get("requests") or {}).items()},
                    {str(k): str(v) for k, v in (given.get("limits") or {}).items()},
                    config,
                )
            container.setdefault("terminationMessagePolicy", "FallbackToLogsOnError")
        elif container.get("resources"):
            container["resources"] = clamp_resources(container["resources"], config)
        if secret_mounts:
            container["volumeMounts"] = [*(container.get("volumeMounts") or []), *secret_mounts]
        container.setdefault("imagePullPolicy", config.image_pull_policy)
        if config.default_security_context and "securityContext" not in container:
            container["securityContext"] = dict(config.default_security_context)
        containers.append(container)
    spec["containers"] = containers
    if secret_volumes:
        spec["volumes"] = [*(spec.get("volumes") or []), *secret_volumes]
    _pod_level(ctx, config, spec, containers, interruptible)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
    return _apply_pod_template(pod, config.default_pod_template, primary), primary


def _pod_level(
    ctx: TaskExecutionContext, config: PodConfig, spec: JSON, containers: list[JSON], interruptible: bool | None
) -> None:
    interruptible = ctx.interruptible if interruptible is None else interruptible
    spec.setdefault("restartPolicy", "Never")
    account = service_account(ctx, config.default_service_account)
    if account and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = account
    if config.scheduler_name and not spec.get("schedulerName"):
        spec["schedulerName"] = config.scheduler_name
    selector = {**config.default_node_selector, **(spec.get("nodeSelector") or {})}
    selector.update(config.interruptible_node_selector if interruptible else config.non_interruptible_node_selector)
    if selector:
        spec["nodeSelector"] = selector
    tolerations = [*(spec.get("tolerations") or []), *config.default_tolerations]
    if interruptible:
        tolerations.extend(config.interruptible_tolerations)
    gpu = config.gpu_resource_name
    if any(gpu in ((c.get("resources") or {}).get("limits") or {}) for c in containers):
        tolerations.append({"key": gpu, "operator": "Exists", "effect": "NoSchedule"})
    unique: list[JSON] = []
    for toleration in tolerations:
        if toleration not in unique:
            unique.append(dict(toleration))
    if unique:
        spec["tolerations"] = unique
    if config.default_affinity and "affinity" not in spec:
        spec["affinity"] = dict(config.default_affinity)
    if config.default_pod_security_context and "securityContext" not in spec:
        spec["securityContext"] = dict(config.default_pod_security_context)
    if config.image_pull_secrets:
        secrets = [{"name": name} for name in config.image_pull_secrets]
        spec["imagePullSecrets"] = [*(spec.get("imagePullSecrets") or []), *secrets]


# -- reading ----------------------------------------------------------------------------------------------


def _statuses(status: Mapping[str, Any]) -> list[JSON]:
    return [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
        *(status.get("ephemeralContainerStatuses") or []),
    ]


def _terminated(container: Mapping[str, Any]) -> JSON | None:
    state = container.get("state") or {}
    last = container.get("lastState") or {}
    terminated = state.get("terminated") or last.get("terminated")
    return dict(terminated) if terminated else None


def _oom_killed(status: Mapping[str, Any]) -> bool:
    return any("OOMKilled" in str((_terminated(c) or {}).get("reason", "")) for c in _statuses(status))


def _disrupted(status: Mapping[str, Any]) -> str:
    """The reason of a DisruptionTarget condition (preemption, eviction, taint manager), or ""."""
    for condition in status.get("conditions") or []:
        if condition.get("type") == "DisruptionTarget" and condition.get("status") == "True":
            return str(condition.get("reason") or "DisruptionTarget")
    return ""


def failed_pod(status: Mapping[str, Any], primary: str) -> Transition:
    """A Failed pod: whose failure it was (user or system) and whether to retry."""
    reason = str(status.get("reason") or "")
    code = reason or "UnknownError"
    message = str(status.get("message") or "Pod failed. No message received from kubernetes.")
    system = False
    for container in _statuses(status):
        terminated = _terminated(container)
        if terminated is None:
            continue
        exit_code = int(terminated.get("exitCode", 0))
        container_reason = str(terminated.get("reason", ""))
        if "OOMKilled" in container_reason:
            code = "OOMKilled"
        elif exit_code in SIGKILL_EXIT_CODES:
            code = "Interrupted"
            system = system or container.get("name") == primary
        message += (
            f"\r\n[{container.get('name')}] terminated with exit code ({exit_code}). Reason [{container_reason}]. "
            f"Message: \n{terminated.get('message', '')}."
        )
    disruption = _disrupted(status)
    if reason in INTERRUPTED_POD_REASONS or code == "UnknownError" or disruption:
        if disruption:
            message = f"{disruption}: {message}"
        return Transition.failure("Interrupted", message, retryable=True, system=True)
    return Transition.failure(code, message, retryable=True, system=system)


def pending_pod(pod: Mapping[str, Any], config: PodConfig, now: datetime) -> Transition:
    """A Pending pod: queued, initializing, or failed because it can never start (or took too long)."""
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        kind, value = condition.get("type"), condition.get("status")
        reason = str(condition.get("reason") or "")
        message = str(condition.get("message") or "")
        if kind == "PodScheduled" and value == "False":
            return Transition(Phase.QUEUED, reason=f"{reason}:{message}" if reason else "Unschedulable")
        if kind != "Ready" or value != "False":
            continue
        since = parse_time(condition.get("lastTransitionTime"))
        waited = (now - since).total_seconds() if since is not None else elapsed_since(pod, now)
        for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            waiting = (container.get("state") or {}).get("waiting")
            if container.get("ready") or not waiting:
                continue
            waiting_reason = str(waiting.get("reason") or "")
            waiting_message = str(waiting.get("message") or "")
            code = f"{reason}|{waiting_reason}"
            if waiting_reason in ("ErrImagePull", "ContainerCreating", "PodInitializing"):
                return Transition(Phase.INITIALIZING, reason=f"{waiting_reason}: {waiting_message}".rstrip(": "))
            if waiting_reason in ("CreateContainerError", "CreateContainerConfigError"):
                grace = (
                    config.create_container_error_grace_seconds
                    if waiting_reason == "CreateContainerError"
                    else config.create_container_config_error_grace_seconds
                )
                if waited > grace:
                    text = f"Grace period [{grace:g}s] exceeded|{waiting_message}"
                    return Transition.failure(code, text, retryable=False)
                return Transition(Phase.INITIALIZING, reason=f"{waiting_reason}: {waiting_message}")
            if waiting_reason == "InvalidImageName":
                return Transition.failure(code, waiting_message or "invalid image name", retryable=False)
            if waiting_reason == "ImagePullBackOff":
                if waited > config.image_pull_backoff_grace_seconds:
                    text = f"Grace period [{config.image_pull_backoff_grace_seconds:g}s] exceeded|{waiting_message}"
                    return Transition.failure(code, text, retryable=True)
                return Transition(Phase.INITIALIZING, reason=f"{waiting_reason}: {waiting_message}")
            return Transition.failure(code, waiting_message or waiting_reason, retryable=True, system=True)
    timeout = config.pod_pending_timeout_seconds
    if timeout > 0 and elapsed_since(pod, now) > timeout:
        return Transition.failure(
            "PodPendingTimeout", f"pod stayed pending longer than {timeout:g}s", retryable=True, system=True
        )
    return Transition(Phase.QUEUED, reason="Scheduling")


def running_pod(pod: Mapping[str, Any], primary: str | None) -> Transition:
    """A Running pod (or one in a phase Kubernetes adds later): the primary container decides."""
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    if not primary:
        finished = [_terminated(c) for c in statuses]
        if statuses and all(t is not None and int(t.get("exitCode", 1)) == 0 for t in finished):
            return _succeeded(status)
        return Transition(Phase.RUNNING, reason="pod running")
    mine = next((c for c in statuses if c.get("name") == primary), None)
    if mine is None:
        declared = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if primary in declared:
            return Transition(Phase.RUNNING, reason="pod running")
        return Transition.failure(
            "PrimaryContainerNotFound", f"primary container {primary!r} is not in the pod", retryable=False
        )
    terminated = (mine.get("state") or {}).get("terminated")
    if not terminated:
        return Transition(Phase.RUNNING, reason="primary container running")
    exit_code = int(terminated.get("exitCode", 0))
    reason = str(terminated.get("reason") or "")
    message = f"[{primary}] terminated with exit code ({exit_code}). Reason [{reason}]. " \
              f"Message: \n{terminated.get('message', '')}."  # fmt: skip
    if "OOMKilled" in reason:
        return Transition.failure("OOMKilled", message, retryable=True)
    if exit_code in SIGKILL_EXIT_CODES:
        return Transition.failure("Interrupted", message, retryable=True, system=True)
    if exit_code != 0:
        return Transition.failure(reason or "ContainerFailed", message, retryable=True)
    return _succeeded(status)


def _succeeded(status: Mapping[str, Any]) -> Transition:
    if _oom_killed(status):
        return Transition.failure(
            "OOMKilled", "Pod reported success despite being OOMKilled", retryable=True, system=False
        )
    return Transition(Phase.SUCCESS, reason="pod succeeded")


def pod_phase(pod: Mapping[str, Any], config: PodConfig, now: datetime) -> Transition:
    """The phase of a task pod from its status (see the module docstring)."""
    status = pod.get("status") or {}
    primary = ((pod.get("metadata") or {}).get("annotations") or {}).get(PRIMARY_CONTAINER_ANNOTATION)
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded":
        return _succeeded(status)
    if phase == "Failed":
        return failed_pod(status, primary or "")
    if phase == "Pending":
        return pending_pod(pod, config, now)
    if phase == "Unknown":
        raise PodStatusUnknown(f"pod {(pod.get('metadata') or {}).get('name')} is in phase Unknown: "
                               f"{status.get('reason', '')} {status.get('message', '')}".rstrip())  # fmt: skip
    return running_pod(pod, primary)


class PodBackend(ConfiguredBackend[PodConfig]):
    """Builds a task's Pod and reads its phase (a `ResourceBackend` for the manager)."""

    kind: ResourceKind = POD

    async def build_resource(self, ctx: TaskExecutionContext) -> JSON:
        pod, _ = await build_pod(ctx, self.config, self._manager.namespace(ctx))
        return pod

    def phase_of(self, ctx: TaskExecutionContext, resource: JSON, now: datetime) -> Transition:
        transition = pod_phase(resource, self.config, now)
        primary = ((resource.get("metadata") or {}).get("annotations") or {}).get(PRIMARY_CONTAINER_ANNOTATION, "")
        # Named from the pod's creation on, so a log can be followed from before its container starts.
        transition = replace(transition, log_context=pod_log_context(resource, primary))
        if (resource.get("status") or {}).get("containerStatuses"):
            logs = pod_log_links(ctx, self.config.logs, resource, primary, suffix=" (User)")
            if self.config.log_link_base is not None:
                logs.append(execution_pb2.TaskLog(uri=live_log_url(self.config.log_link_base, ctx), name="Task log"))
            transition = replace(transition, logs=logs)
        return transition


def create(config: Mapping[str, Any]) -> KubePlugin:
    """The factory the registry calls with `plugins.backends.k8s-pod` (a `PodConfig`)."""
    return backend_plugin("k8s-pod", CONTAINER_TASK_TYPES, PodBackend, PodConfig, config)
