"""Settings of the Kubernetes backends: the resource manager (its connection is `flyteplane.kube`), pods, logs,
Spark and Ray.

Each Kubernetes backend reads its own `plugins.backends.<id>` mapping; they share the shapes here,
so `kube` (connection, namespace template, labels, finalizers) reads the same in every one of them.
Names follow Flyte's K8s plugin configuration (`default-cpus` -> `default_cpu`, ...) in snake case.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flyteplane.kube import KubeConnection
from plugins.common.log_links import check_log_link_base
from plugins.k8s.names import render_template


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OwnerReference(_Frozen):
    """An object that owns every resource a backend creates (garbage collected with it)."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool = False


class ManagerConfig(_Frozen):
    """The resource manager every Kubernetes backend shares (see `plugins.k8s.manager`)."""

    connection: KubeConnection = Field(default_factory=KubeConnection)
    namespace_template: str = Field(
        default="{{ project }}-{{ domain }}",
        description="The namespace of a task's objects; variables `project` and `domain`.",
    )
    create_namespaces: bool = Field(default=False, description="Create a missing namespace instead of failing.")
    default_labels: dict[str, str] = Field(default_factory=dict)
    default_annotations: dict[str, str] = Field(
        default_factory=lambda: {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    )
    inject_finalizer: bool = Field(
        default=True, description="Add `flyte.org/finalizer-k8s`, removed on finalize, so no object vanishes unseen."
    )
    delete_resource_on_finalize: bool = Field(
        default=True,
        description="Delete objects on finalize. Flyte keeps them for its FlyteWorkflow owner to collect; "
        "without that owner nothing else would.",
    )
    owner_reference: OwnerReference | None = Field(
        default=None, description="An owner for every object (e.g. propeller's Deployment), for garbage collection."
    )
    watch_interval_seconds: float = Field(
        default=2.0, ge=0, description="How often one list per namespace looks for changed objects to wake; 0: off."
    )
    record_events: bool = Field(default=True, description="Add the objects' Kubernetes events to the task reasons.")

    @field_validator("namespace_template")
    @classmethod
    def _known_variables(cls, value: str) -> str:
        render_template(value, {"project": "p", "domain": "d"})
        return value


class ResourceSet(_Frozen):
    """Quantities by Kubernetes resource name (`cpu`, `memory`, `nvidia.com/gpu`, `ephemeral-storage`)."""

    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None
    ephemeral_storage: str | None = None

    def as_dict(self, gpu_resource: str) -> dict[str, str]:
        names = {"cpu": "cpu", "memory": "memory", "gpu": gpu_resource, "ephemeral_storage": "ephemeral-storage"}
        return {names[key]: value for key, value in self.model_dump().items() if value}


class LogTemplate(_Frozen):
    """One log link: a display name and a URI template (Flyte's `templates` log plugin).

    Variables: podName, podUID, namespace, containerName, containerId, hostname, podRFC3339StartTime,
    podRFC3339FinishTime, podUnixStartTime, podUnixFinishTime, executionName, executionProject,
    executionDomain, nodeId, taskName, taskRetryAttempt, generatedName (as `{{ .podName }}`).
    """

    name: str
    template: str


class LogConfig(_Frozen):
    """Which log links a task reports: kubectl-style, CloudWatch, Stackdriver, and any templates."""

    kubernetes_enabled: bool = False
    kubernetes_url: str = Field(default="", description="Dashboard base URL, e.g. http://localhost:30082.")
    kubectl_enabled: bool = Field(default=False, description="A `kubectl logs` command line as the link.")
    cloudwatch_enabled: bool = False
    cloudwatch_region: str = ""
    cloudwatch_log_group: str = ""
    stackdriver_enabled: bool = False
    gcp_project: str = ""
    stackdriver_log_resource_name: str = ""
    templates: tuple[LogTemplate, ...] = ()


class PodConfig(_Frozen):
    """How a task becomes a Pod (Flyte's K8s plugin configuration)."""

    kube: ManagerConfig = Field(default_factory=ManagerConfig)
    default_requests: ResourceSet = Field(default_factory=lambda: ResourceSet(cpu="1", memory="1Gi"))
    max_limits: ResourceSet = Field(
        default_factory=ResourceSet, description="Caps for requests and limits (a limit the task omits = its request)."
    )
    gpu_resource_name: str = "nvidia.com/gpu"
    default_env: dict[str, str] = Field(default_factory=dict)
    default_env_from_secrets: tuple[str, ...] = ()
    default_env_from_configmaps: tuple[str, ...] = ()
    default_node_selector: dict[str, str] = Field(default_factory=dict)
    default_tolerations: tuple[dict[str, Any], ...] = ()
    default_affinity: dict[str, Any] | None = None
    interruptible_node_selector: dict[str, str] = Field(default_factory=dict)
    interruptible_tolerations: tuple[dict[str, Any], ...] = ()
    non_interruptible_node_selector: dict[str, str] = Field(default_factory=dict)
    scheduler_name: str = ""
    default_service_account: str = ""
    image_pull_policy: str = "IfNotPresent"
    image_pull_secrets: tuple[str, ...] = ()
    default_security_context: dict[str, Any] | None = None
    default_pod_security_context: dict[str, Any] | None = None
    default_pod_template: dict[str, Any] | None = Field(
        default=None, description="A PodTemplate's `template` ({metadata, spec}) every pod starts from."
    )
    secrets_mount_path: str = Field(default="/etc/flyte/secrets", description="Where file secrets are mounted.")
    image_pull_backoff_grace_seconds: float = Field(default=180.0, ge=0)
    create_container_error_grace_seconds: float = Field(default=180.0, ge=0)
    create_container_config_error_grace_seconds: float = Field(default=180.0, ge=0)
    pod_pending_timeout_seconds: float = Field(default=0.0, ge=0, description="0: pending forever is fine.")
    console_url: str = Field(default="", description="For FLYTE_EXECUTION_URL.")
    logs: LogConfig = Field(default_factory=LogConfig)
    log_link_base: str | None = Field(
        default=None,
        description="Admin's HTTP base URL (`http://host:port`, as people reach it): each attempt then also reports "
        "a `Task log` link to admin's live log endpoint (`<base>/api/v1/logs/...`), which reads the pod log API. "
        "`flyteplane start` sets it for `k8s-pod`; None: only the templates' links.",
    )

    @field_validator("log_link_base")
    @classmethod
    def _http_base(cls, value: str | None) -> str | None:
        return check_log_link_base(value)


class ArrayConfig(PodConfig):
    """The legacy array backend: pod settings plus how many subtask pods may be created at once."""

    max_array_parallelism: int = Field(default=0, ge=0, description="0: no cap beyond the task's own.")
    default_subtask_retries: int = Field(default=0, ge=0, description="Retries of a failed index within one attempt.")


class SparkConfig(PodConfig):
    """The spark-operator backend (`SparkApplication`, sparkoperator.k8s.io/v1beta2)."""

    spark_config_default: dict[str, str] = Field(default_factory=dict)
    features: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="`spark.flyte.<feature>.enabled: true` in a task's conf is replaced by this conf map.",
    )
    default_service_account: str = "spark"
    spark_version: str = Field(default="3.5.5", description="The operator's required `sparkVersion` field.")
    spark_history_server_url: str = ""
    submission_failure_retries: int = 14


class RayConfig(PodConfig):
    """The KubeRay backend (`RayJob`, ray.io/v1)."""

    shutdown_after_job_finishes: bool = True
    ttl_seconds_after_finished: int = 3600
    service_type: str = "NodePort"
    include_dashboard: bool = True
    dashboard_host: str = "0.0.0.0"
    enable_usage_stats: bool = False
    service_account: str = ""
    default_head_start_params: dict[str, str] = Field(default_factory=dict)
    default_worker_start_params: dict[str, str] = Field(default_factory=dict)
    dashboard_url_template: str = Field(default="", description="Link while running; variables as LogTemplate.")
