"""The Kubernetes backends against a real kube-apiserver (etcd from Debian, the apiserver built from Go modules).

The API server validates every object it accepts: Pods against the Kubernetes schema, and
SparkApplications and RayJobs against the reference CRDs (installed here), all with
`fieldValidation=Strict`. No kubelet or operator runs: the tests play them by writing the status
subresource, as they would.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from flyteidl_py.core import security_pb2, tasks_pb2
from flyteplane.kube import KubeConnection
from flyteplane.storage import Storage
from plugins.core import Phase, Plugin, TaskExecutionContext
from plugins.k8s import array, pod, ray, spark
from plugins.k8s.client import JSON, POD, KubeClient, ResourceKind
from plugins.k8s.manager import KubePlugin
from plugins.k8s.ray import RAY_JOB
from plugins.k8s.spark import SPARK_APPLICATION
from tests.integration.plugins.k8s.apiserver import ApiServer, crd_documents
from tests.integration.plugins.k8s.test_manager_fake_api import container_array_task, map_inputs
from tests.unit.plugins.k8s.contexts import context, ray_template, spark_template, template, with_secrets

NS = "flytesnacks-development"
# The test API server's certificate is self-signed.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def settings(server: ApiServer, **extra: Any) -> dict[str, Any]:
    return {
        "kube": {
            "connection": {"host": server.url, "token": server.token, "verify_ssl": False},
            "create_namespaces": True,
            "watch_interval_seconds": 0.2,
        },
        **extra,
    }


@pytest.fixture(scope="session")
async def crds(apiserver: ApiServer) -> None:
    """The SparkApplication, RayJob and RayCluster CRDs, installed and established."""
    client = KubeClient(KubeConnection(host=apiserver.url, token=apiserver.token, verify_ssl=False))
    try:
        for document in crd_documents():
            body = {k: v for k, v in document.items() if k != "status"}
            try:
                await client.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=body)
            except Exception as error:
                if "AlreadyExists" not in str(error):
                    raise
        for document in crd_documents():
            name = document["metadata"]["name"]  # type: ignore[index]
            for _ in range(100):
                crd = await client.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
                conditions = {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions", [])}
                if conditions.get("Established") == "True":
                    break
                await asyncio.sleep(0.1)
    finally:
        client.close()


@pytest.fixture
async def client(apiserver: ApiServer) -> AsyncIterator[KubeClient]:
    kube = KubeClient(KubeConnection(host=apiserver.url, token=apiserver.token, verify_ssl=False))
    yield kube
    kube.close()


async def set_status(client: KubeClient, kind: ResourceKind, name: str, status: JSON) -> None:
    """What the kubelet (or the operator) does: write the status subresource."""
    await client.request(
        "PATCH", kind.path(NS, name) + "/status", body={"status": status}, content_type="application/merge-patch+json"
    )


async def drive_to(plugin: Plugin, ctx: TaskExecutionContext) -> tuple[TaskExecutionContext, Phase]:
    transition = await plugin.handle(ctx)
    return dataclasses.replace(ctx, plugin_state=transition.state or ctx.plugin_state), transition.phase


async def test_pod_lifecycle_on_a_real_api_server(apiserver: ApiServer, client: KubeClient, storage: Storage) -> None:
    plugin = pod.create(settings(apiserver))
    ctx = context(storage, template("examples.basics.scalars"), execution="real1")
    try:
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.QUEUED
        again = await plugin.handle(dataclasses.replace(ctx, plugin_state=b""))  # AlreadyExists from etcd
        assert again.phase is Phase.QUEUED
        created = await client.get(POD, NS, ctx.generated_name)
        assert created is not None and created["metadata"]["uid"]
        primary = created["metadata"]["annotations"]["primary_container_name"]
        await set_status(client, POD, ctx.generated_name, {"phase": "Running", "containerStatuses": [
            {"name": primary, "ready": True, "restartCount": 0, "image": "x", "imageID": "",
             "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}}]})  # fmt: skip
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.RUNNING
        await set_status(client, POD, ctx.generated_name, {"phase": "Succeeded", "containerStatuses": [
            {"name": primary, "ready": False, "restartCount": 0, "image": "x", "imageID": "",
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})  # fmt: skip
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.SUCCESS
        await plugin.finalize(ctx)
        assert await client.get(POD, NS, ctx.generated_name) is None
    finally:
        await plugin.aclose()


def variants() -> list[tuple[str, tasks_pb2.TaskTemplate, dict[str, Any]]]:
    scalars = template("examples.basics.scalars")
    secret = with_secrets(
        scalars,
        security_pb2.Secret(group="db", key="password", mount_requirement=security_pb2.Secret.ENV_VAR),
        security_pb2.Secret(group="tls", key="cert", mount_requirement=security_pb2.Secret.FILE),
    )
    return [
        ("secrets", secret, {}),
        ("pod template, tolerations, selectors", scalars, {
            "default_node_selector": {"pool": "general"},
            "interruptible_tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
            "default_pod_template": {"spec": {"priorityClassName": "", "containers": [
                {"name": "default", "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
                "volumes": [{"name": "scratch", "emptyDir": {}}]}},
            "default_security_context": {"runAsNonRoot": True},
            "max_limits": {"cpu": "2", "memory": "4Gi"},
        }),
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "task", "config"), variants(), ids=[v[0] for v in variants()])
async def test_the_api_server_accepts_every_pod_variant(
    apiserver: ApiServer, storage: Storage, name: str, task: tasks_pb2.TaskTemplate, config: dict[str, Any]
) -> None:
    plugin = pod.create(settings(apiserver, **config))
    try:
        ctx = context(storage, task, execution=f"variant{abs(hash(name)) % 10000}", interruptible=True)
        transition = await plugin.handle(ctx)
        assert transition.phase is Phase.QUEUED, transition.reason
        await plugin.finalize(dataclasses.replace(ctx, plugin_state=transition.state))
    finally:
        await plugin.aclose()


async def test_an_object_the_api_server_refuses_is_a_permanent_failure(apiserver: ApiServer, storage: Storage) -> None:
    task = template("examples.basics.scalars")
    task.container.image = ""  # spec.containers[0].image: Required value
    plugin = pod.create(settings(apiserver))
    try:
        transition = await plugin.handle(context(storage, task, execution="invalid"))
        assert transition.phase is Phase.PERMANENT_FAILURE
        assert transition.error is not None and transition.error.code == "InvalidResource"
        assert "image" in transition.error.message
    finally:
        await plugin.aclose()


async def test_spark_application_is_accepted_and_followed(
    apiserver: ApiServer, crds: None, client: KubeClient, storage: Storage
) -> None:
    plugin: KubePlugin = spark.create(settings(apiserver))
    ctx = context(storage, spark_template(), execution="spark1")
    try:
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.QUEUED
        assert await client.get(SPARK_APPLICATION, NS, ctx.generated_name) is not None
        for state, expected in (("SUBMITTED", Phase.INITIALIZING), ("RUNNING", Phase.RUNNING),
                                ("COMPLETED", Phase.SUCCESS)):  # fmt: skip
            await set_status(
                client,
                SPARK_APPLICATION,
                ctx.generated_name,
                {"applicationState": {"state": state}, "driverInfo": {"podName": f"{ctx.generated_name}-driver"}},
            )
            ctx, phase = await drive_to(plugin, ctx)
            assert phase is expected
        await plugin.finalize(ctx)
        assert await client.get(SPARK_APPLICATION, NS, ctx.generated_name) is None
    finally:
        await plugin.aclose()


async def test_ray_job_is_accepted_and_followed(
    apiserver: ApiServer, crds: None, client: KubeClient, storage: Storage
) -> None:
    plugin: KubePlugin = ray.create(settings(apiserver))
    ctx = context(storage, ray_template(), execution="ray1")
    try:
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.QUEUED
        steps = [
            ("Initializing", "", Phase.INITIALIZING),
            ("Running", "RUNNING", Phase.RUNNING),
            ("Complete", "SUCCEEDED", Phase.SUCCESS),
        ]
        for deployment, job, expected in steps:
            status = {"jobDeploymentStatus": deployment, "rayClusterName": f"{ctx.generated_name}-raycluster"}
            if job:
                status["jobStatus"] = job
            await set_status(client, RAY_JOB, ctx.generated_name, status)
            ctx, phase = await drive_to(plugin, ctx)
            assert phase is expected
        await plugin.finalize(ctx)
        assert await client.get(RAY_JOB, NS, ctx.generated_name) is None
    finally:
        await plugin.aclose()


async def test_array_pods_on_a_real_api_server(apiserver: ApiServer, client: KubeClient, storage: Storage) -> None:
    plugin = array.create(settings(apiserver))
    ctx = context(storage, container_array_task(parallelism=0, ratio=1.0), execution="array1")
    await storage.write_proto(ctx.paths.inputs, map_inputs([5, 6]))
    try:
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.RUNNING
        for index in range(2):
            name = f"{ctx.generated_name}-{index}"
            created = await client.get(POD, NS, name)
            assert created is not None
            primary = created["metadata"]["annotations"]["primary_container_name"]
            await set_status(client, POD, name, {"phase": "Succeeded", "containerStatuses": [
                {"name": primary, "ready": False, "restartCount": 0, "image": "x", "imageID": "",
                 "state": {"terminated": {"exitCode": 0}}}]})  # fmt: skip
        ctx, phase = await drive_to(plugin, ctx)
        assert phase is Phase.SUCCESS
        await plugin.finalize(ctx)
        assert [p for p in await client.list(POD, NS) if p["metadata"]["name"].startswith(ctx.generated_name)] == []
    finally:
        await plugin.aclose()
