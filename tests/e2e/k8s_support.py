"""What the e2e modules that run flytekit tasks as pods on the real Kubernetes node share: fixtures and helpers.

The node (tests/support/kube_node.py) is one for the machine; each module gets its own plane, S3 bucket and
flytekit project directory. Task pods use the host's network (`hostNetwork` in the backends' default pod
template), so they reach the moto S3 store on loopback exactly as the plane and the client do; the store's
endpoint and keys reach them from a Kubernetes Secret in the project/domain's namespace, as a platform hands
them to every task pod.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from flyteplane.storage import S3Config, StorageConfig
from tests.integration.flyteplane.storage.conftest import S3_KEY, S3_SECRET
from tests.support.kube_node import Node
from tests.support.literals import plain_map

WORKFLOWS = Path(__file__).with_name("k8s_workflows")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
PROJECT, DOMAIN = "flytesnacks", "development"
NAMESPACE = f"{PROJECT}-{DOMAIN}"  # the backends' default namespace template, `{{ project }}-{{ domain }}`
LOG_LINK = "Pod log API"


def storage_secret(store: StorageConfig) -> str:
    """The name of the Kubernetes Secret with `store`'s endpoint and keys: one per store (bucket), since the node
    and its namespaces are shared by every test process of the machine, each with a store of its own."""
    return f"flyte-storage-{store.default_bucket}"


def prepare_namespace(node: Node, namespace: str, store: StorageConfig) -> None:
    """`namespace` with its `default` service account and the store's Secret (`storage_secret`), as a platform
    sets one up for a project/domain before its tasks run (the plane does not create namespaces unless told to)."""
    if not node.kubectl("get", "namespace", namespace, "--ignore-not-found", "-o", "name"):
        node.kubectl("create", "namespace", namespace)
    node.kubectl("wait", "--for=jsonpath={.metadata.name}=default", "-n", namespace, "serviceaccount/default",
                 "--timeout=60s")  # fmt: skip
    s3 = store.s3
    assert s3.endpoint_url and s3.access_key_id and s3.secret_access_key
    values = {
        "FLYTE_AWS_ENDPOINT": s3.endpoint_url, "FLYTE_AWS_ACCESS_KEY_ID": s3.access_key_id,
        "FLYTE_AWS_SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(), "AWS_DEFAULT_REGION": s3.region,
    }  # fmt: skip
    node.kubectl("delete", "secret", "-n", namespace, storage_secret(store), "--ignore-not-found")
    node.kubectl("create", "secret", "generic", "-n", namespace, storage_secret(store),
                 *(f"--from-literal={k}={v}" for k, v in values.items()))  # fmt: skip


@pytest.fixture(scope="module")
def store(moto_endpoint: str) -> StorageConfig:
    """A fresh bucket on the moto S3 server: the plane's store, read and written by the task pods too."""
    bucket = f"pods-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=moto_endpoint, region_name="us-east-1",
        aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=bucket)  # fmt: skip
    s3 = S3Config(endpoint_url=moto_endpoint, access_key_id=S3_KEY, secret_access_key=SecretStr(S3_SECRET))
    return StorageConfig(default_scheme="s3", default_bucket=bucket, s3=s3)


@pytest.fixture(scope="module")
def node(k8s_node: Node, store: StorageConfig) -> Node:
    """The node, with flytesnacks/development's namespace ready for task pods (see `prepare_namespace`)."""
    prepare_namespace(k8s_node, NAMESPACE, store)
    return k8s_node


def pod_backend(node: Node, store: StorageConfig, **settings: Any) -> dict[str, Any]:
    """`plugins.backends.k8s-pod` (and the pod part of `k8s-array`) for this node and store, updated with
    `settings`."""
    return {
        "kube": {
            "connection": {"host": node.api_url, "token": node.token, "verify_ssl": False},
            "watch_interval_seconds": 0.5,
        },
        # Half a core each (the limit equals the request): flytekit starts in a few seconds, four pods at once.
        "default_requests": {"cpu": "500m", "memory": "400Mi"},
        "image_pull_policy": "Never",
        "default_env_from_secrets": [storage_secret(store)],
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


def outputs(answer: dict[str, Any]) -> dict[str, Any]:
    """The outputs of a succeeded execution as the probe answered them, as plain Python values."""
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))


def pods(node: Node, namespace: str, execution: str) -> list[dict[str, Any]]:
    """The pods of execution `execution` in `namespace` (every backend labels its objects `execution-id`)."""
    listed = node.kubectl("get", "pods", "-n", namespace, "-l", f"execution-id={execution}", "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed)["items"]
    return items
