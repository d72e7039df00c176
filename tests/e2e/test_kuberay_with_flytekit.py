"""Real flytekit through the plane: `ray` tasks as RayJobs of the `ray` backend, run by KubeRay on a real node.

The node is tests/support/kube_node.py's; KubeRay's operator and CoreDNS run beside it (tests/support/kuberay.py),
built from the Go module proxy. The Ray image is Debian's python3 with flytekit, flytekitplugins-ray and ray,
imported into the node's containerd. Ray's pods use the pod network (a head and its workers declare the same
ports), so they reach the object store at the node's own address, where this module's moto server listens.
"""

from __future__ import annotations

import base64
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from flyteplane.storage import S3Config, StorageConfig
from tests.integration.flyteplane.storage.conftest import S3_KEY, S3_SECRET, _free_port, _start_server, _stop
from tests.integration.plugins.task_envs import ray_venv
from tests.support.flytekit import Flytekit
from tests.support.kube_node import Node, Unavailable, node_ip
from tests.support.kuberay import RAY_IMAGE, KubeRay, dns_pod_settings, import_image, kuberay, ray_image_archive
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, plane_config, running_plane

WORKFLOWS = Path(__file__).with_name("ray_workflows")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
PROJECT, DOMAIN = "flytesnacks", "development"
NAMESPACE = f"{PROJECT}-{DOMAIN}"
VERSION = "kuberay-v1"


@pytest.fixture(scope="module")
def operator(k8s_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeRay]:
    """KubeRay on the node, with the namespace of flytesnacks/development; skipped, with the reason, where the
    operator, CoreDNS or the Ray image cannot be built here."""
    k8s_node.namespace(NAMESPACE)
    try:
        import_image(k8s_node, ray_image_archive())
        with kuberay(k8s_node, tmp_path_factory.mktemp("kuberay")) as running:
            yield running
    except Unavailable as exc:
        pytest.skip(f"no KubeRay here: {exc}")


@pytest.fixture(scope="module")
def store(k8s_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageConfig]:
    """An S3 store (moto) at the node's address: the plane reaches it there, and so do pods on the pod network."""
    host, port = node_ip(k8s_node.ports), _free_port()
    endpoint = f"http://{host}:{port}"
    process = _start_server([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                            f"{endpoint}/moto-api/", tmp_path_factory.mktemp("moto") / "log")  # fmt: skip
    bucket = f"ray-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
    ).create_bucket(Bucket=bucket)
    s3 = S3Config(endpoint_url=endpoint, access_key_id=S3_KEY, secret_access_key=SecretStr(S3_SECRET))
    yield StorageConfig(default_scheme="s3", default_bucket=bucket, s3=s3)
    _stop(process)


@pytest.fixture(scope="module")
def storage_secret(k8s_node: Node, store: StorageConfig) -> str:
    """The store's endpoint and keys as a Kubernetes Secret every Ray pod gets as its environment."""
    s3 = store.s3
    assert s3.endpoint_url and s3.access_key_id and s3.secret_access_key
    values = {
        "FLYTE_AWS_ENDPOINT": s3.endpoint_url, "FLYTE_AWS_ACCESS_KEY_ID": s3.access_key_id,
        "FLYTE_AWS_SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(), "AWS_DEFAULT_REGION": s3.region,
    }  # fmt: skip
    k8s_node.kubectl("delete", "secret", "-n", NAMESPACE, "ray-storage", "--ignore-not-found")
    k8s_node.kubectl("create", "secret", "generic", "-n", NAMESPACE, "ray-storage",
                     *(f"--from-literal={k}={v}" for k, v in values.items()))  # fmt: skip
    return "ray-storage"


def ray_backend(node: Node, storage_secret: str) -> dict[str, Any]:
    """`plugins.backends.ray` for this node: its pods resolve the cluster's names through the node's CoreDNS."""
    return {
        "kube": {
            "connection": {"host": node.api_url, "token": node.token, "verify_ssl": False},
            "watch_interval_seconds": 0.5,
        },
        "image_pull_policy": "Never",
        "default_env_from_secrets": [storage_secret],
        "default_pod_template": {"spec": dns_pod_settings(node, NAMESPACE)},
        "service_type": "ClusterIP",
        "ttl_seconds_after_finished": 30,
    }


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, k8s_node: Node, operator: KubeRay, store: StorageConfig,
    storage_secret: str,
) -> AsyncIterator[RunningPlane]:  # fmt: skip
    directory = tmp_path_factory.mktemp("plane")
    config = plane_config(
        directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db",
        plugins={"task_types": {"ray": "ray"}, "backends": {"ray": ray_backend(k8s_node, storage_secret)}},
    )  # fmt: skip
    config = config.model_copy(update={"storage": store.model_copy(update={"local_root": directory / "store"})})
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    """flytekit with flytekitplugins-ray and ray (the Ray task environment), the Ray workflows registered."""
    flytekit = Flytekit.for_admin(
        ray_venv() / "bin", plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    flytekit.add_package(WORKFLOWS, "ray_workflows")
    await flytekit.pyflyte(
        "register", "-p", PROJECT, "-d", DOMAIN, "--version", VERSION, "--image", RAY_IMAGE, "ray_workflows"
    )
    return flytekit


async def test_a_ray_task_runs_as_a_rayjob_through_kuberay(client: Flytekit, operator: KubeRay) -> None:
    params = {"action": "execute_and_wait", "name": "ray_workflows.jobs.ray_wf", "version": VERSION,
              "inputs": {"n": 5}, "timeout": 900}  # fmt: skip
    answer: dict[str, Any] = await client.remote(PROBE, params, time_limit=960)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, (answer.get("error"), operator.log("ray-operator"))
    outputs = plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))
    # The squares summed by Ray remote functions, on a cluster of the head and its one worker pod, which saw the
    # job's runtime environment.
    assert outputs == {"o0": 0 + 1 + 4 + 9 + 16, "o1": 2, "o2": "yes"}
    # KubeRay ran it: the operator saw the RayJob the backend created complete (the backend deletes it afterwards).
    log = (operator.logs / "ray-operator.log").read_text(errors="replace")
    assert '"new JobStatus":"SUCCEEDED"' in log and '"new JobDeploymentStatus":"Complete"' in log
