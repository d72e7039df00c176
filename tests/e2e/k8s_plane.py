"""The plane with `python-task` run by the `k8s-pod` backend as pods on the real node, and flytekit for it:
module-scoped fixtures the Kubernetes e2e modules share (import them by name; each module gets its own plane).

The node (tests/support/kube_node.py) runs etcd, the API server, controller manager, scheduler, containerd
and a kubelet on this machine; the tasks' image is Debian's python3 with flytekit, imported into the
node's containerd (never pulled). Typed data goes through an S3 store (moto): task pods use the host's
network (`hostNetwork` in the backend's default pod template), so they reach it on loopback exactly as
the plane and the client do.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from flyteplane.storage import S3Config, StorageConfig
from launcher.config import with_pod_log_clusters
from tests.integration.flyteplane.storage.conftest import S3_KEY, S3_SECRET, moto_endpoint
from tests.support.flytekit import Flytekit
from tests.support.kube_node import TASK_IMAGE, Node
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, plane_config, running_plane

__all__ = ["moto_endpoint"]  # a fixture, shared with the storage tests

WORKFLOWS = Path(__file__).with_name("k8s_workflows")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
PROJECT, DOMAIN = "flytesnacks", "development"
NAMESPACE = f"{PROJECT}-{DOMAIN}"
VERSION = "k8s-v1"
LOG_LINK = "Pod log API"


@pytest.fixture(scope="module")
def node(k8s_node: Node) -> Node:
    """The node, with the namespace of flytesnacks/development and its `default` service account."""
    k8s_node.namespace(NAMESPACE)
    return k8s_node


@pytest.fixture(scope="module")
def store(moto_endpoint: str) -> StorageConfig:
    bucket = f"pods-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=moto_endpoint, region_name="us-east-1",
        aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=bucket)  # fmt: skip
    s3 = S3Config(endpoint_url=moto_endpoint, access_key_id=S3_KEY, secret_access_key=SecretStr(S3_SECRET))
    return StorageConfig(default_scheme="s3", default_bucket=bucket, s3=s3)


def secret_name(store: StorageConfig) -> str:
    """The name of the Kubernetes Secret with `store`'s endpoint and keys: one per store (bucket), since the node
    and its namespaces are shared by every test process of the machine, each with a store of its own (a module
    recreating a common name would point another module's pods at its own store)."""
    return f"flyte-storage-{store.default_bucket}"


def prepare_namespace(node: Node, namespace: str, store: StorageConfig) -> None:
    """`namespace` with its `default` service account and the store's Secret (`secret_name`), as a platform sets
    one up for a project/domain before its tasks run (Flyte's pods get no credentials of the plane's own: they come
    from the platform's pod settings; the plane does not create namespaces unless told to)."""
    node.namespace(namespace)
    s3 = store.s3
    assert s3.endpoint_url and s3.access_key_id and s3.secret_access_key
    values = {
        "FLYTE_AWS_ENDPOINT": s3.endpoint_url, "FLYTE_AWS_ACCESS_KEY_ID": s3.access_key_id,
        "FLYTE_AWS_SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(), "AWS_DEFAULT_REGION": s3.region,
    }  # fmt: skip
    node.kubectl("delete", "secret", "-n", namespace, secret_name(store), "--ignore-not-found")
    node.kubectl("create", "secret", "generic", "-n", namespace, secret_name(store),
                 *(f"--from-literal={k}={v}" for k, v in values.items()))  # fmt: skip


@pytest.fixture(scope="module")
def storage_secret(node: Node, store: StorageConfig) -> str:
    """The Secret every task pod of flytesnacks/development gets the store's endpoint and keys from."""
    prepare_namespace(node, NAMESPACE, store)
    return secret_name(store)


def pod_backend_for(node: Node, storage_secret: str, **settings: Any) -> dict[str, Any]:
    """`plugins.backends.k8s-pod` (and the pod part of `k8s-array`) for this node, updated with `settings`."""
    return {
        "kube": {
            "connection": {"host": node.api_url, "token": node.token, "verify_ssl": False},
            "watch_interval_seconds": 0.5,
        },
        # Half a core each (the limit equals the request): flytekit starts in a few seconds, four pods at once.
        "default_requests": {"cpu": "500m", "memory": "400Mi"},
        "image_pull_policy": "Never",
        "default_env_from_secrets": [storage_secret],
        "default_pod_template": {"spec": {"hostNetwork": True}},
        # A link per task to the API server's pod log API (what `kubectl logs` reads).
        "logs": {
            "templates": [
                {
                    "name": LOG_LINK,
                    "template": f"{node.api_url}/api/v1/namespaces/{{{{ .namespace }}}}"
                    "/pods/{{ .podName }}/log?container={{ .containerName }}",
                }
            ]
        },
        **settings,
    }


@pytest.fixture(scope="module")
def pod_backend(node: Node, storage_secret: str) -> dict[str, Any]:
    """The backend's settings; a module may override this fixture to change them."""
    return pod_backend_for(node, storage_secret)


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, store: StorageConfig, pod_backend: dict[str, Any]
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    config = plane_config(
        directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db",
        plugins={"task_types": {"python-task": "k8s-pod", "container": "k8s-pod"},
                 "backends": {"k8s-pod": pod_backend}},
    )  # fmt: skip
    config = config.model_copy(update={"storage": store.model_copy(update={"local_root": directory / "store"})})
    config = with_pod_log_clusters(config)  # admin reads the pods' logs with the backend's connection, as `start` does
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    """flytekit for the plane, with the workflows registered (fast registration) for the task image."""
    flytekit = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    flytekit.add_package(WORKFLOWS, "k8s_workflows")
    await flytekit.pyflyte(
        "register", "-p", PROJECT, "-d", DOMAIN, "--version", VERSION, "--image", TASK_IMAGE, "k8s_workflows"
    )
    return flytekit


def outputs(answer: dict[str, Any]) -> dict[str, Any]:
    """The outputs of a succeeded execution as the probe answered them, as plain Python values."""
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))


def pods(node: Node, namespace: str, execution: str) -> list[dict[str, Any]]:
    """The pods of execution `execution` in `namespace` (every backend labels its objects `execution-id`)."""
    listed = node.kubectl("get", "pods", "-n", namespace, "-l", f"execution-id={execution}", "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed)["items"]
    return items
