"""Pods built for tasks: Flyte's environment, resources, secrets, scheduling, templates; all validate as Pods."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import struct_pb2

from flyteidl_py.core import identifier_pb2, security_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.core import BadTaskDefinition, TaskExecutionContext
from plugins.k8s.config import PodConfig
from plugins.k8s.manager import ResourceManager
from plugins.k8s.pod import PRIMARY_CONTAINER_ANNOTATION, PodBackend, build_pod
from tests.unit.plugins.k8s.contexts import context, template, with_secrets
from tests.unit.plugins.k8s.schemas import pod_errors


async def pod_for(ctx: TaskExecutionContext, config: PodConfig | None = None) -> tuple[dict[str, Any], str]:
    config = config or PodConfig()
    manager = ResourceManager("k8s-pod", config.kube)
    pod, primary = await build_pod(ctx, config, manager.namespace(ctx))
    pod = manager.decorate(ctx, pod, manager.object_name(ctx.generated_name), manager.namespace(ctx))
    assert pod_errors(pod) == []
    return pod, primary


def primary_of(pod: dict[str, Any], name: str) -> dict[str, Any]:
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == name]
    return container


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


async def test_python_task_pod_runs_the_rendered_entrypoint_with_flyte_environment(storage: Storage) -> None:
    ctx = context(storage, template("examples.basics.scalars"), attempt=2)
    pod, primary = await pod_for(ctx)
    container = primary_of(pod, primary)
    args = container["args"]
    assert args[args.index("--inputs") + 1] == ctx.paths.inputs
    assert args[args.index("--output-prefix") + 1] == ctx.paths.output_prefix
    assert args[args.index("--prev-checkpoint") + 1] == ctx.paths.previous_checkpoint_prefix
    assert not any("{{" in a for a in args)
    env = env_of(container)
    assert env["FLYTE_ATTEMPT_NUMBER"] == "2"
    assert env["FLYTE_INTERNAL_EXECUTION_ID"] == "exec1"
    assert env["FLYTE_INTERNAL_EXECUTION_PROJECT"] == "flytesnacks"
    assert env["FLYTE_INTERNAL_TASK_NAME"] == "examples.basics.scalars"
    assert env["FLYTE_INTERNAL_EXECUTION_WORKFLOW"] == "k8s_examples.wf"
    assert env["EXECUTION_ENV"] == "from-execution"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["annotations"][PRIMARY_CONTAINER_ANNOTATION] == primary
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"


async def test_first_attempt_passes_flytes_empty_previous_checkpoint(storage: Storage) -> None:
    pod, primary = await pod_for(context(storage, template("examples.basics.scalars")))
    args = primary_of(pod, primary)["args"]
    assert args[args.index("--prev-checkpoint") + 1] == '""'


async def test_objects_carry_flytes_labels_annotations_finalizer_and_project_domain_namespace(storage: Storage) -> None:
    ctx = context(storage, template("examples.basics.scalars"), interruptible=True, labels={"team": "ml"})
    pod, _ = await pod_for(ctx)
    metadata = pod["metadata"]
    assert metadata["namespace"] == "flytesnacks-development"
    assert metadata["name"] == ctx.generated_name
    labels = metadata["labels"]
    assert labels["execution-id"] == "exec1"
    assert labels["node-id"] == "n0"
    assert labels["task-name"] == "examples.basics.scalars"
    assert labels["attempt"] == "0"
    assert labels["interruptible"] == "true"
    assert labels["team"] == "ml"
    assert metadata["annotations"]["flyte.org/task-execution-id"].endswith("/n0/examples.basics.scalars/0")
    assert metadata["finalizers"] == ["flyte.org/finalizer-k8s"]


async def test_namespace_comes_from_the_configured_template(storage: Storage) -> None:
    config = PodConfig.model_validate({"kube": {"namespace_template": "flyte-{{ .Domain }}"}})
    pod, _ = await pod_for(context(storage, template("examples.basics.scalars")), config)
    assert pod["metadata"]["namespace"] == "flyte-development"


def resources(requests: dict[int, str], limits: dict[int, str]) -> tasks_pb2.Resources:
    entry = tasks_pb2.Resources.ResourceEntry
    return tasks_pb2.Resources(
        requests=[entry(name=k, value=v) for k, v in requests.items()],  # type: ignore[arg-type]
        limits=[entry(name=k, value=v) for k, v in limits.items()],  # type: ignore[arg-type]
    )


R = tasks_pb2.Resources


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        pytest.param(
            resources({}, {}),
            {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            id="platform defaults, limits equal requests",
        ),
        pytest.param(
            resources({R.CPU: "500m"}, {R.MEMORY: "2Gi"}),
            {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "500m", "memory": "2Gi"}},
            id="a limit without request is the request too",
        ),
        pytest.param(
            resources({R.CPU: "8", R.MEMORY: "64Gi"}, {R.CPU: "16", R.MEMORY: "128Gi"}),
            {"requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}},
            id="capped at the platform maximum",
        ),
        pytest.param(
            resources({R.CPU: "2"}, {R.CPU: "1"}),
            {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            id="a request never exceeds its limit",
        ),
        pytest.param(
            resources({R.GPU: "1"}, {}),
            {
                "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
            },
            id="gpus under the configured resource name",
        ),
    ],
)
async def test_requests_and_limits_merge_platform_defaults_and_caps(
    storage: Storage, task: tasks_pb2.Resources, expected: dict[str, dict[str, str]]
) -> None:
    config = PodConfig.model_validate({"max_limits": {"cpu": "4", "memory": "8Gi"}})
    ctx = context(storage, template("examples.basics.scalars"), resources=task)
    pod, primary = await pod_for(ctx, config)
    assert primary_of(pod, primary)["resources"] == expected
    if "nvidia.com/gpu" in expected["limits"]:
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["spec"]["tolerations"]


async def test_a_malformed_quantity_is_a_bad_task_definition(storage: Storage) -> None:
    ctx = context(storage, template("examples.basics.scalars"), resources=resources({R.CPU: "lots"}, {}))
    with pytest.raises(BadTaskDefinition, match="lots"):
        await pod_for(ctx)


async def test_secrets_arrive_where_flytekit_looks_as_env_or_files(storage: Storage) -> None:
    task = with_secrets(
        template("examples.basics.scalars"),
        security_pb2.Secret(group="db", key="password", mount_requirement=security_pb2.Secret.ENV_VAR),
        security_pb2.Secret(group="db", key="user", env_var="DB_USER"),
        security_pb2.Secret(group="TLS", key="Cert", mount_requirement=security_pb2.Secret.FILE),
    )
    pod, primary = await pod_for(context(storage, task))
    container = primary_of(pod, primary)
    env = env_of(container)
    assert env["_FSEC_DB_PASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert env["_FSEC_DB_USER"] == env["DB_USER"] == {"secretKeyRef": {"name": "db", "key": "user"}}
    assert env["FLYTE_SECRETS_ENV_PREFIX"] == "_FSEC_"
    assert env["FLYTE_SECRETS_DEFAULT_DIR"] == "/etc/flyte/secrets"
    (volume,) = pod["spec"]["volumes"]
    assert volume["secret"] == {"secretName": "tls", "items": [{"key": "Cert", "path": "cert"}]}
    assert {"name": volume["name"], "mountPath": "/etc/flyte/secrets/tls", "readOnly": True} in container[
        "volumeMounts"
    ]


async def test_interruptible_tasks_get_the_interruptible_node_selector_and_tolerations(storage: Storage) -> None:
    config = PodConfig.model_validate({
        "default_node_selector": {"pool": "general"},
        "interruptible_node_selector": {"lifecycle": "spot"},
        "non_interruptible_node_selector": {"lifecycle": "on-demand"},
        "interruptible_tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
    })  # fmt: skip
    spot, _ = await pod_for(context(storage, template("examples.basics.scalars"), interruptible=True), config)
    assert spot["spec"]["nodeSelector"] == {"pool": "general", "lifecycle": "spot"}
    assert spot["spec"]["tolerations"] == [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}]
    steady, _ = await pod_for(context(storage, template("examples.basics.scalars")), config)
    assert steady["spec"]["nodeSelector"] == {"pool": "general", "lifecycle": "on-demand"}
    assert "tolerations" not in steady["spec"]


async def test_service_account_from_task_then_execution_then_platform(storage: Storage) -> None:
    config = PodConfig(default_service_account="platform-sa")
    task = template("examples.basics.scalars")
    pod, _ = await pod_for(context(storage, task), config)
    assert pod["spec"]["serviceAccountName"] == "platform-sa"
    execution_sc = security_pb2.SecurityContext(run_as=security_pb2.Identity(k8s_service_account="exec-sa"))
    pod, _ = await pod_for(context(storage, task, security_context=execution_sc), config)
    assert pod["spec"]["serviceAccountName"] == "exec-sa"
    own = tasks_pb2.TaskTemplate()
    own.CopyFrom(task)
    own.security_context.run_as.k8s_service_account = "task-sa"
    pod, _ = await pod_for(context(storage, own, security_context=execution_sc), config)
    assert pod["spec"]["serviceAccountName"] == "task-sa"


async def test_default_pod_template_lies_underneath_with_default_and_primary_containers(storage: Storage) -> None:
    config = PodConfig.model_validate({
        "default_pod_template": {
            "metadata": {"labels": {"from-template": "yes"}},
            "spec": {
                "priorityClassName": "batch",
                "containers": [
                    {"name": "default", "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]},
                    {"name": "primary", "env": [{"name": "FROM_TEMPLATE", "value": "1"}]},
                ],
                "volumes": [{"name": "scratch", "emptyDir": {}}],
            },
        }
    })  # fmt: skip
    pod, primary = await pod_for(context(storage, template("examples.basics.scalars")), config)
    assert pod["spec"]["priorityClassName"] == "batch"
    assert pod["metadata"]["labels"]["from-template"] == "yes"
    container = primary_of(pod, primary)
    assert container["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"}]
    assert env_of(container)["FROM_TEMPLATE"] == "1"
    assert env_of(container)["FLYTE_ATTEMPT_NUMBER"] == "0"


def k8s_pod_task() -> tasks_pb2.TaskTemplate:
    spec = struct_pb2.Struct()
    spec.update({
        "containers": [
            {"name": "main", "image": "busybox", "args": ["echo", "{{.outputPrefix}}"],
             "resources": {"requests": {"cpu": "250m"}}},
            {"name": "sidecar", "image": "nginx", "resources": {"limits": {"memory": "100Gi"}}},
        ]
    })  # fmt: skip
    return tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project="p", domain="d", name="pod", version="1"
        ),
        type="sidecar",
        k8s_pod=tasks_pb2.K8sPod(
            pod_spec=spec,
            primary_container_name="main",
            metadata=tasks_pb2.K8sObjectMetadata(labels={"kind": "pod-task"}),
        ),
        config={"primary_container_name": "main"},
    )


async def test_pod_tasks_keep_their_spec_and_customise_every_container(storage: Storage) -> None:
    config = PodConfig.model_validate({"max_limits": {"memory": "8Gi"}})
    ctx = context(storage, k8s_pod_task())
    pod, primary = await pod_for(ctx, config)
    assert primary == "main"
    main, sidecar = pod["spec"]["containers"]
    assert main["args"] == ["echo", ctx.paths.output_prefix]
    assert main["resources"] == {
        "requests": {"cpu": "250m", "memory": "1Gi"},
        "limits": {"cpu": "250m", "memory": "1Gi"},
    }
    assert sidecar["resources"] == {"limits": {"memory": "8Gi"}}
    assert "FLYTE_INTERNAL_EXECUTION_ID" in env_of(sidecar)
    assert pod["metadata"]["labels"]["kind"] == "pod-task"


async def test_pod_task_without_its_primary_container_is_refused(storage: Storage) -> None:
    task = k8s_pod_task()
    task.k8s_pod.primary_container_name = "missing"
    with pytest.raises(BadTaskDefinition, match="missing"):
        await pod_for(context(storage, task))


async def test_array_subtask_pods_know_their_index(storage: Storage) -> None:
    ctx = context(storage, template("examples.basics.scalars"), array_index=3)
    pod, primary = await pod_for(ctx)
    env = env_of(primary_of(pod, primary))
    assert env["FLYTE_K8S_ARRAY_INDEX"] == "3"
    assert env["BATCH_JOB_ARRAY_INDEX_VAR_NAME"] == "FLYTE_K8S_ARRAY_INDEX"
    assert pod["metadata"]["name"].endswith("-3")


async def test_platform_env_and_console_url(storage: Storage) -> None:
    config = PodConfig(
        default_env={"PLATFORM": "1"},
        default_env_from_secrets=("aws-creds",),
        console_url="https://flyte.example.com/console",
    )
    pod, primary = await pod_for(context(storage, template("examples.basics.scalars")), config)
    container = primary_of(pod, primary)
    env = env_of(container)
    assert env["PLATFORM"] == "1"
    assert env["FLYTE_EXECUTION_URL"] == (
        "https://flyte.example.com/console/projects/flytesnacks/domains/development/executions/exec1/nodeId/n0/nodes"
    )
    assert container["envFrom"] == [{"secretRef": {"name": "aws-creds"}}]


async def test_long_generated_names_become_dns_labels(storage: Storage) -> None:
    ctx = context(storage, template("examples.basics.scalars"), execution="Exec_With_UPPER.case")
    ctx = dataclasses.replace(ctx, labels={"a/b/c": "x"})
    config = PodConfig()
    manager = ResourceManager("k8s-pod", config.kube)
    pod, _ = await build_pod(ctx, config, manager.namespace(ctx))
    pod = manager.decorate(ctx, pod, manager.object_name(ctx.generated_name), manager.namespace(ctx))
    errors = pod_errors(pod)
    assert [e for e in errors if "a/b/c" not in e] == []


async def test_a_pods_phase_names_the_pod_for_admin_and_links_admins_live_log(storage: Storage) -> None:
    ctx = context(storage, template("examples.basics.scalars"))
    config = PodConfig(log_link_base="http://plane.example:30081/")
    pod, primary = await pod_for(ctx, config)
    backend = PodBackend(config, ResourceManager("k8s-pod", config.kube))
    now = datetime.now(UTC)
    pending = backend.phase_of(ctx, pod, now)
    assert pending.log_context is not None and not pending.logs  # named before any container has started
    (entry,) = pending.log_context.pods
    assert (entry.namespace, entry.pod_name, entry.primary_container_name) == (
        pod["metadata"]["namespace"], pod["metadata"]["name"], primary,
    )  # fmt: skip
    running = {
        **pod,
        "status": {"phase": "Running", "containerStatuses": [{"name": primary, "state": {"running": {}}}]},
    }
    (link,) = backend.phase_of(ctx, running, now).logs
    execution = ctx.task_execution_id.node_execution_id.execution_id
    assert link.name == "Task log"
    assert link.uri.startswith(f"http://plane.example:30081/api/v1/logs/{execution.project}/{execution.domain}/")
    assert "node_id=n0&attempt=0" in link.uri
