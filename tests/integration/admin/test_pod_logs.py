"""Admin's reader of the Kubernetes pod log API (`admin.pod_logs`) against pods on the real node.

The pods print numbered lines from the task image's python3 (images are local: never pulled); one
names an image the node does not have, so its container never starts.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from admin.pod_logs import ContainerWaiting, PodContainer, PodLogs
from flyteplane.errors import NotFound
from flyteplane.kube import KubeConnection
from tests.support.kube_node import TASK_IMAGE, Node

NAMESPACE = "podlogs-reader"
BACKEND = "k8s-pod"


@pytest.fixture(scope="module")
def node(k8s_node: Node) -> Node:
    k8s_node.namespace(NAMESPACE)
    return k8s_node


@pytest.fixture
async def pods(node: Node) -> AsyncIterator[PodLogs]:
    reader = PodLogs({BACKEND: KubeConnection(host=node.api_url, token=SecretStr(node.token), verify_ssl=False)})
    yield reader
    await reader.aclose()


def _start_pod(node: Node, script: str, image: str = TASK_IMAGE) -> PodContainer:
    name = f"talker-{uuid.uuid4().hex[:8]}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "restartPolicy": "Never",
            "hostNetwork": True,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "task",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["python3", "-u", "-c", script],
                    "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}},
                }
            ],
        },
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json") as manifest:
        manifest.write(json.dumps(pod))
        manifest.flush()
        node.kubectl("create", "-f", manifest.name)
    return PodContainer(BACKEND, NAMESPACE, name, "task")


def _count(lines: int, pause: float) -> str:
    return f"import time\nfor i in range({lines}):\n    print(f'line {{i}}')\n    time.sleep({pause})\n"


async def _wait_for_phase(node: Node, pod: PodContainer, *phases: str) -> None:
    for _ in range(240):
        phase = await asyncio.to_thread(
            node.kubectl, "get", "pod", "-n", NAMESPACE, pod.pod, "-o", "jsonpath={.status.phase}"
        )
        if phase in phases:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{pod} never reached {phases}")


async def test_a_finished_containers_log_is_read_whole_and_from_an_offset_within_a_window(
    node: Node, pods: PodLogs
) -> None:
    pod = _start_pod(node, _count(5, 0))
    await _wait_for_phase(node, pod, "Succeeded")
    whole = b"".join(f"line {i}\n".encode() for i in range(5))
    assert await pods.read(pod, 0, 1 << 20) == whole
    assert await pods.read(pod, 7, 1 << 20) == whole[7:]
    assert await pods.read(pod, 7, 5) == whole[7:12]  # `limitBytes` counts from the log's start
    assert await pods.ended(pod)


async def test_a_followed_log_yields_lines_as_the_container_prints_them_and_ends_with_it(
    node: Node, pods: PodLogs
) -> None:
    pod = _start_pod(node, _count(8, 1.0))
    received: list[tuple[float, bytes]] = []
    for _ in range(240):  # until the container has started and printed (an empty log is no stream: 204)
        try:
            async for chunk in pods.follow(pod, 0):
                received.append((time.monotonic(), chunk))
        except ContainerWaiting:
            pass
        if received:
            break
        await asyncio.sleep(0.5)
    text = b"".join(chunk for _, chunk in received)
    assert text == b"".join(f"line {i}\n".encode() for i in range(8))
    # Streamed, not read at the end: the last lines came a second apart (the first may come together, when the
    # container started before the stream did).
    assert received[-1][0] - received[0][0] >= 1.5, received
    await _ended(pods, pod)  # once the kubelet has reported the container's end, a moment after the stream's


async def _ended(pods: PodLogs, pod: PodContainer) -> None:
    for _ in range(60):
        if await pods.ended(pod):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{pod} never ended")


async def test_a_followed_log_skips_the_offset_already_sent(node: Node, pods: PodLogs) -> None:
    pod = _start_pod(node, _count(3, 0))
    await _wait_for_phase(node, pod, "Succeeded")
    assert b"".join([chunk async for chunk in pods.follow(pod, len("line 0\n"))]) == b"line 1\nline 2\n"


async def test_a_container_that_has_not_started_has_an_empty_log(node: Node, pods: PodLogs) -> None:
    pod = _start_pod(node, "print('never')", image="localhost/flyteplane/absent:1")
    try:
        assert await pods.read(pod, 0, 1024) == b""
        with pytest.raises(ContainerWaiting):
            async for _ in pods.follow(pod, 0):
                pass
        assert not await pods.ended(pod)
    finally:
        node.kubectl("delete", "pod", "-n", NAMESPACE, pod.pod, "--wait=false")


async def test_a_deleted_pods_log_is_not_found_naming_the_pod(node: Node, pods: PodLogs) -> None:
    pod = _start_pod(node, _count(1, 0))
    await _wait_for_phase(node, pod, "Succeeded")
    await asyncio.to_thread(node.kubectl, "delete", "pod", "-n", NAMESPACE, pod.pod, "--wait=true")
    with pytest.raises(NotFound, match=f"pod {NAMESPACE}/{pod.pod} .*is gone"):
        await pods.read(pod, 0, 1024)
    with pytest.raises(NotFound, match=pod.pod):
        async for _ in pods.follow(pod, 0):
            pass
    assert await pods.ended(pod)
