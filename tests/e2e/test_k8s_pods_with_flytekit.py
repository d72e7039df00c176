"""Real flytekit through the plane, with `python-task` run by the `k8s-pod` backend as pods on a real Kubernetes node
(the plane and the node: tests/e2e/k8s_plane.py).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.e2e.k8s_plane import (
    DOMAIN,
    LOG_LINK,
    NAMESPACE,
    PROBE,
    PROJECT,
    VERSION,
    client,
    moto_endpoint,
    node,
    plane,
    pod_backend,
    storage_secret,
    store,
)
from tests.e2e.k8s_plane import outputs as outputs_of
from tests.support.flytekit import Flytekit
from tests.support.kube_node import Node
from tests.support.plane import RunningPlane

# The plane's fixtures, used by name.
__all__ = ["client", "moto_endpoint", "node", "plane", "pod_backend", "storage_secret", "store"]

GREETING = "hello from the pod's container"  # what k8s_workflows.pods.talks prints


async def _run(client: Flytekit, workflow: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    params = {"action": "execute_and_wait", "name": f"k8s_workflows.pods.{workflow}", "version": VERSION,
              "inputs": inputs or {}, "timeout": 240}  # fmt: skip
    answer: dict[str, Any] = await client.remote(PROBE, params, time_limit=300)
    return answer


async def test_typed_inputs_and_outputs_pass_through_the_store_between_pods(client: Flytekit) -> None:
    outputs = outputs_of(await _run(client, "typed_io", {"a": 2, "b": 3, "name": "pods"}))
    # The task ran in a pod of the project/domain's namespace, on a node whose kubelet named the API server.
    assert outputs == {"o0": f"pods: 5 in {NAMESPACE} (10.96.0.1)", "o1": "PODS"}


@pytest.fixture(scope="module")
def task_secrets(node: Node) -> dict[str, str]:
    """Kubernetes Secrets named after the groups the `secrets` workflow's tasks request."""
    values = {"poddb": "password=s3cret-from-env", "podfiles": "token=s3cret-from-file"}
    for name, literal in values.items():
        node.kubectl("delete", "secret", "-n", NAMESPACE, name, "--ignore-not-found")
        node.kubectl("create", "secret", "generic", "-n", NAMESPACE, name, f"--from-literal={literal}")
    return values


@pytest.fixture(scope="module")
async def runs(client: Flytekit, task_secrets: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One execution of each workflow below, started together by one FlyteRemote and waited for: by workflow."""
    workflows = ["retried", "raising", "exiting", "out_of_memory", "resources", "secrets"]
    params = {"action": "execute_all_and_wait", "timeout": 400,
              "runs": [{"name": f"k8s_workflows.pods.{w}", "version": VERSION} for w in workflows]}  # fmt: skip
    answer: dict[str, Any] = await client.remote(PROBE, params, time_limit=480)
    return dict(zip(workflows, answer["runs"], strict=True))


async def test_a_failed_attempt_is_retried_in_a_new_pod_until_it_succeeds(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["retried"]
    assert outputs_of(answer) == {"o0": 2}
    assert [node["attempts"] for node in answer["nodes"].values() if node["attempts"]] == [3]


async def test_a_raised_exception_reaches_flyteremote_as_the_executions_error(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["raising"]
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "the task raised on purpose" in answer["error"]
    assert "ValueError" in answer["error"]


async def test_a_pod_that_exits_without_an_error_document_fails_with_its_exit_code(
    runs: dict[str, dict[str, Any]],
) -> None:
    answer = runs["exiting"]
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "exit code (3)" in answer["error"], answer["error"]


async def test_a_container_over_its_memory_limit_fails_as_oomkilled(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["out_of_memory"]
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "OOMKilled" in answer["error"], answer["error"]


async def test_the_tasks_requests_and_limits_are_applied_to_its_container(runs: dict[str, dict[str, Any]]) -> None:
    # 400Mi of memory, 400m of CPU: the cgroup the kubelet made for the container says so.
    assert outputs_of(runs["resources"]) == {"o0": f"memory {400 * 1024 * 1024}, cpu 40000/100000"}


async def test_secrets_come_from_kubernetes_secrets_as_environment_and_files(runs: dict[str, dict[str, Any]]) -> None:
    assert outputs_of(runs["secrets"]) == {"o0": "s3cret-from-env", "o1": "s3cret-from-file"}


def _pods(node: Node, execution: str) -> list[dict[str, Any]]:
    listed = node.kubectl("get", "pods", "-n", NAMESPACE, "-l", f"execution-id={execution}", "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed)["items"]
    return items


async def test_aborting_an_execution_deletes_its_running_pod(client: Flytekit, node: Node) -> None:
    name = f"abort-{uuid.uuid4().hex[:8]}"
    params = {"action": "execute_then_terminate", "name": "k8s_workflows.pods.sleeper", "version": VERSION,
              "inputs": {"seconds": 600}, "execution_name": name, "timeout": 120}  # fmt: skip
    answer: dict[str, Any] = await client.remote(PROBE, params, time_limit=240)
    assert answer["phase"] == core.WorkflowExecution.ABORTED
    for _ in range(120):  # the pod goes once its finalizer is removed; a minute at most
        pods = await asyncio.to_thread(_pods, node, name)
        if not pods:
            break
        await asyncio.sleep(0.5)
    assert pods == []


def _read_log(url: str, token: str) -> str:
    """The log the link points at, read with the node's token; "" until the container has started."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return str(answer.read().decode())
    except urllib.error.HTTPError:
        return ""


async def test_a_running_tasks_log_link_reads_its_pods_output(
    client: Flytekit, plane: RunningPlane, node: Node
) -> None:
    name = f"logs-{uuid.uuid4().hex[:8]}"
    params = {"action": "execute_launch_plan", "name": "k8s_workflows.pods.talker", "version": VERSION,
              "inputs": {"seconds": 600}, "execution_name": name}  # fmt: skip
    await client.remote(PROBE, params)
    execution = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
    request = task_execution_pb2.TaskExecutionListRequest(
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=execution), limit=10
    )
    text = ""
    try:
        for _ in range(360):  # the pod starts within three minutes even on a busy machine
            listed = await plane.stub.ListTaskExecutions(request)
            links = [log.uri for t in listed.task_executions for log in t.closure.logs if log.name.startswith(LOG_LINK)]
            if links:
                text = await asyncio.to_thread(_read_log, links[0], node.token)
                if GREETING in text:
                    break
            await asyncio.sleep(0.5)
    finally:
        await plane.stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution, cause="read its log"))
    assert GREETING in text, text
