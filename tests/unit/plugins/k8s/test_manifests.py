"""SparkApplications and RayJobs built from real flytekit-serialized tasks, validated against the reference CRDs.

Pod templates inside them are also checked against the Kubernetes models (see `schemas`).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from google.protobuf import json_format, struct_pb2

from flyteidl_py.core import tasks_pb2
from flyteidl_py.plugins import ray_pb2, spark_pb2
from flyteplane.storage import Storage
from plugins.core import BadTaskDefinition, TaskExecutionContext
from plugins.k8s.config import RayConfig, SparkConfig
from plugins.k8s.manager import ResourceManager
from plugins.k8s.ray import RayBackend
from plugins.k8s.spark import SparkBackend
from tests.unit.plugins.k8s.contexts import context, ray_template, spark_template, template
from tests.unit.plugins.k8s.schemas import custom_resource_errors, pod_errors, pod_template_errors


async def spark_application(ctx: TaskExecutionContext, config: SparkConfig | None = None) -> dict[str, Any]:
    config = config or SparkConfig()
    manager = ResourceManager("spark", config.kube)
    body = await SparkBackend(config, manager).build_resource(ctx)
    body = manager.decorate(ctx, body, manager.object_name(ctx.generated_name), manager.namespace(ctx))
    assert custom_resource_errors(body) == []
    return body


async def ray_job(ctx: TaskExecutionContext, config: RayConfig | None = None) -> dict[str, Any]:
    config = config or RayConfig()
    manager = ResourceManager("ray", config.kube)
    body = await RayBackend(config, manager).build_resource(ctx)
    body = manager.decorate(ctx, body, manager.object_name(ctx.generated_name), manager.namespace(ctx))
    assert custom_resource_errors(body) == []
    spec = body["spec"]
    for pod_template in [
        spec["submitterPodTemplate"],
        spec["rayClusterSpec"]["headGroupSpec"]["template"],
        *(g["template"] for g in spec["rayClusterSpec"]["workerGroupSpecs"]),
    ]:
        assert pod_template_errors(pod_template) == []
    return body


def env(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in entries}


async def test_spark_task_becomes_a_valid_spark_application(storage: Storage) -> None:
    ctx = context(storage, spark_template(), attempt=1, max_attempts=3, interruptible=True)
    app = await spark_application(ctx)
    spec = app["spec"]
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    assert app["metadata"]["namespace"] == "flytesnacks-development"
    assert spec["type"] == "Python"
    assert spec["mainApplicationFile"] == "local:///opt/venv/bin/entrypoint.py"
    assert spec["image"] == "localhost/spark-task:1"
    assert spec["arguments"][0] == "pyflyte-execute"
    assert spec["arguments"][spec["arguments"].index("--inputs") + 1] == ctx.paths.inputs
    assert spec["sparkConf"]["spark.executor.instances"] == "2"
    assert spec["sparkConf"]["spark.pyspark.python"] == "/opt/venv/bin/python3"
    assert spec["sparkConf"]["spark.kubernetes.executor.podNamePrefix"] == ctx.generated_name
    assert spec["hadoopConf"] == {"fs.s3a.connection.maximum": "64"}
    assert spec["restartPolicy"] == {"type": "OnFailure", "onSubmissionFailureRetries": 14}
    assert spec["driver"]["serviceAccount"] == spec["executor"]["serviceAccount"] == "spark"
    assert spec["driver"]["memory"] == spec["executor"]["memory"] == "1g"
    assert spec["executor"]["instances"] == 2
    assert spec["driver"]["labels"]["interruptible"] == "true"  # the task's labels; the driver pod is not spot
    assert env(spec["driver"]["env"])["FLYTE_MAX_ATTEMPTS"] == "3"
    assert env(spec["driver"]["env"])["FLYTE_ATTEMPT_NUMBER"] == "1"


async def test_spark_driver_is_never_interruptible_and_executors_may_be(storage: Storage) -> None:
    config = SparkConfig.model_validate({
        "interruptible_node_selector": {"lifecycle": "spot"},
        "interruptible_tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
    })  # fmt: skip
    app = await spark_application(context(storage, spark_template(), interruptible=True), config)
    assert "tolerations" not in app["spec"]["driver"]
    assert app["spec"]["executor"]["nodeSelector"] == {"lifecycle": "spot"}
    assert app["spec"]["executor"]["tolerations"] == [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}]


def with_custom(task: tasks_pb2.TaskTemplate, custom: dict[str, Any]) -> tasks_pb2.TaskTemplate:
    out = tasks_pb2.TaskTemplate()
    out.CopyFrom(task)
    out.custom.Clear()
    out.custom.update(custom)
    return out


async def test_spark_features_and_platform_defaults_shape_the_conf(storage: Storage) -> None:
    custom = json_format.MessageToDict(spark_template().custom)
    custom["sparkConf"]["spark.flyte.feature1.enabled"] = "true"
    custom["sparkConf"]["spark.batchScheduler"] = "volcano"
    config = SparkConfig(
        spark_config_default={"spark.eventLog.enabled": "true", "spark.executor.instances": "1"},
        features={"feature1": {"spark.hadoop.feature1": "on"}},
    )
    app = await spark_application(context(storage, with_custom(spark_template(), custom)), config)
    conf = app["spec"]["sparkConf"]
    assert conf["spark.eventLog.enabled"] == "true"
    assert conf["spark.executor.instances"] == "2"  # the task's conf wins
    assert conf["spark.hadoop.feature1"] == "on"
    assert "spark.flyte.feature1.enabled" not in conf
    assert app["spec"]["batchScheduler"] == "volcano"


async def test_spark_pod_overlays_reach_driver_and_executor(storage: Storage) -> None:
    job = spark_pb2.SparkJob()
    json_format.ParseDict(json_format.MessageToDict(spark_template().custom), job)
    pod_spec = struct_pb2.Struct()
    pod_spec.update({
        "containers": [{"name": "primary", "env": [{"name": "FROM_OVERLAY", "value": "1"}]}],
        "tolerations": [{"key": "spark", "operator": "Exists", "effect": "NoSchedule"}],
    })  # fmt: skip
    job.executorPod.CopyFrom(tasks_pb2.K8sPod(pod_spec=pod_spec, primary_container_name="primary"))
    job.driverPod.CopyFrom(tasks_pb2.K8sPod(metadata=tasks_pb2.K8sObjectMetadata(labels={"role": "driver"})))
    app = await spark_application(context(storage, with_custom(spark_template(), json_format.MessageToDict(job))))
    executor, driver = app["spec"]["executor"], app["spec"]["driver"]
    assert executor["tolerations"] == [{"key": "spark", "operator": "Exists", "effect": "NoSchedule"}]
    assert env(executor["env"])["FROM_OVERLAY"] == "1"
    assert driver["labels"]["role"] == "driver"


async def test_spark_job_without_an_application_is_a_bad_task(storage: Storage) -> None:
    custom = json_format.MessageToDict(spark_template().custom)
    del custom["mainApplicationFile"]
    with pytest.raises(BadTaskDefinition):
        await spark_application(context(storage, with_custom(spark_template(), custom)))


async def test_ray_task_becomes_a_valid_ray_job(storage: Storage) -> None:
    ctx = context(storage, ray_template())
    job = await ray_job(ctx)
    spec = job["spec"]
    assert job["apiVersion"] == "ray.io/v1"
    assert spec["entrypoint"].startswith("pyflyte-execute --inputs ")
    assert ctx.paths.inputs in spec["entrypoint"]
    assert yaml.safe_load(spec["runtimeEnvYAML"]) == {"env_vars": {"FROM_RUNTIME_ENV": "yes"}}
    assert spec["shutdownAfterJobFinishes"] is True
    assert spec["ttlSecondsAfterFinished"] == 120
    cluster = spec["rayClusterSpec"]
    assert cluster["enableInTreeAutoscaling"] is True
    head = cluster["headGroupSpec"]
    assert head["rayStartParams"]["log-color"] == "false"
    assert head["rayStartParams"]["node-ip-address"] == "$MY_POD_IP"
    assert head["rayStartParams"]["disable-usage-stats"] == "true"
    assert head["rayStartParams"]["dashboard-host"] == "0.0.0.0"
    (head_container,) = head["template"]["spec"]["containers"]
    assert head_container["name"] == "ray-head"
    assert head_container["image"] == "localhost/ray-task:1"
    assert "args" not in head_container and "command" not in head_container
    assert {p["containerPort"] for p in head_container["ports"]} == {6379, 10001, 8265}
    assert env(head_container["env"])["MY_POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    (workers,) = cluster["workerGroupSpecs"]
    assert (workers["groupName"], workers["replicas"], workers["minReplicas"], workers["maxReplicas"]) == (
        "workers", 2, 1, 3,
    )  # fmt: skip
    (worker,) = workers["template"]["spec"]["containers"]
    assert worker["name"] == "ray-worker"
    assert worker["lifecycle"]["preStop"]["exec"]["command"][-1] == "ray stop"
    assert spec["submitterPodTemplate"]["spec"]["restartPolicy"] == "Never"


async def test_ray_job_shutdown_and_ttl_come_from_config_unless_the_task_sets_them(storage: Storage) -> None:
    job = await ray_job(context(storage, ray_template("ray_fails")), RayConfig(ttl_seconds_after_finished=77))
    assert job["spec"]["shutdownAfterJobFinishes"] is True
    assert job["spec"]["ttlSecondsAfterFinished"] == 77
    assert "runtimeEnvYAML" not in job["spec"]


async def test_ray_groups_take_their_own_pods_and_autoscaler_options(storage: Storage) -> None:
    job = ray_pb2.RayJob()
    json_format.ParseDict(json_format.MessageToDict(ray_template().custom), job)
    pod_spec = struct_pb2.Struct()
    pod_spec.update({"containers": [{"name": "ray-worker", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]})
    job.ray_cluster.worker_group_spec[0].k8s_pod.CopyFrom(tasks_pb2.K8sPod(pod_spec=pod_spec))
    job.ray_cluster.autoscaler_options.CopyFrom(
        ray_pb2.AutoscalerOptions(
            upscaling_mode=ray_pb2.AutoscalerOptions.UPSCALING_MODE_CONSERVATIVE, idle_timeout_seconds=30
        )
    )
    job.runtime_env_yaml = ""  # the deprecated base64 JSON form still works
    task = with_custom(ray_template(), json_format.MessageToDict(job))
    body = await ray_job(context(storage, task), RayConfig.model_validate({"max_limits": {"cpu": "1"}}))
    cluster = body["spec"]["rayClusterSpec"]
    (worker,) = cluster["workerGroupSpecs"][0]["template"]["spec"]["containers"]
    assert worker["resources"]["requests"] == {"cpu": "1", "memory": "4Gi"}
    assert cluster["autoscalerOptions"] == {"upscalingMode": "Conservative", "idleTimeoutSeconds": 30}
    assert yaml.safe_load(body["spec"]["runtimeEnvYAML"]) == {"env_vars": {"FROM_RUNTIME_ENV": "yes"}}


def test_the_validators_reject_what_the_api_server_would() -> None:
    bad_pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name", "labels": {"k": "x" * 64}},
        "spec": {"containers": [{"image": "x", "cpuLimit": 1, "ports": [{"containerPort": "80"}]}]},
    }  # fmt: skip
    errors = "\n".join(pod_errors(bad_pod))
    for expected in ("cpuLimit", "containerPort", "Bad_Name", "labels.k", "`name`, must not be `None`"):
        assert expected in errors
    bad_app = {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication", "metadata": {"name": "a"},
               "spec": {"type": "Python", "driver": {"cores": "1"}, "executor": {}, "extra": 1}}  # fmt: skip
    errors = "\n".join(custom_resource_errors(bad_app))
    for expected in ("'mainApplicationFile' is a required property", "'extra' was unexpected", "'1' is not of type"):
        assert expected in errors


async def test_python_task_pod_inside_custom_resources_keeps_flyte_env(storage: Storage) -> None:
    """The same pod building serves every backend: a python task's template also builds a RayJob group."""
    job = await ray_job(context(storage, with_custom(template("examples.basics.scalars"), {})))
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert env(head["env"])["FLYTE_INTERNAL_EXECUTION_ID"] == "exec1"
