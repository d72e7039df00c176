"""Real flytekit map tasks through the plane, their elements run as pods on a real Kubernetes node.

flytekit 1.16's `map_task` serializes as an ArrayNode whose elements are ordinary `python-task`s (task type
version 1): propeller's array node runs each element through the `k8s-pod` backend, one pod per element
attempt. Its legacy map task (`flytekit.core.legacy_map_task`) is one `container_array` task, which the
`k8s-array` backend runs as one pod per index. Both read and write typed data in the S3 store, as the pods
of tests/e2e/test_k8s_pods_with_flytekit.py do (same node, fixtures from tests/e2e/k8s_plane.py).

The cases run together, started by one FlyteRemote: pods are kept after they finish (finalizers still
removed), so the tests count and time them afterwards by their labels.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.admin import execution_pb2, project_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteplane.storage import StorageConfig
from tests.e2e.k8s_plane import (
    DOMAIN,
    NAMESPACE,
    PROBE,
    PROJECT,
    WORKFLOWS,
    moto_endpoint,
    node,
    outputs,
    pod_backend_for,
    pods,
    prepare_namespace,
    storage_secret,
    store,
)
from tests.support.flytekit import Flytekit
from tests.support.kube_node import TASK_IMAGE, Node
from tests.support.plane import RunningPlane, plane_config, running_plane

__all__ = ["moto_endpoint", "node", "storage_secret", "store"]  # fixtures, from tests.e2e.k8s_plane

VERSION = "k8s-maps-v1"
OTHER_PROJECT = "k8sother"
OTHER_NAMESPACE = f"{OTHER_PROJECT}-{DOMAIN}"
XS = list(range(8))


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, node: Node, store: StorageConfig, storage_secret: str
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    # Finished pods stay (their finalizer removed), for the tests to count and time: the node is the test's.
    kube = {**pod_backend_for(node, storage_secret)["kube"], "delete_resource_on_finalize": False}
    backend = pod_backend_for(node, storage_secret, kube=kube)
    config = plane_config(
        directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db",
        plugins={"task_types": {"python-task": "k8s-pod", "container_array": "k8s-array"},
                 "backends": {"k8s-pod": backend, "k8s-array": backend}},
    )  # fmt: skip
    config = config.model_copy(update={"storage": store.model_copy(update={"local_root": directory / "store"})})
    async with running_plane(config) as running:
        yield running


@dataclass(frozen=True)
class Clients:
    main: Flytekit  # flytesnacks/development
    other: Flytekit  # a second project, created through the admin API


@pytest.fixture(scope="module")
async def clients(
    plane: RunningPlane, node: Node, store: StorageConfig, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Clients:
    """flytekit for the plane in each project, the workflows registered (fast registration) for the task image in
    both at once; the second project's namespace set up as the first's."""
    await plane.stub.RegisterProject(
        project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=OTHER_PROJECT, name=OTHER_PROJECT))
    )
    await asyncio.to_thread(prepare_namespace, node, OTHER_NAMESPACE, store)
    main = Flytekit.for_admin(flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("p"))
    main.add_package(WORKFLOWS, "k8s_workflows")
    other = replace(main, project=OTHER_PROJECT)
    await asyncio.gather(*(c.register("--image", TASK_IMAGE, "k8s_workflows", version=VERSION) for c in (main, other)))
    return Clients(main, other)


@pytest.fixture(scope="module")
def client(clients: Clients) -> Flytekit:
    return clients.main


def _case(workflow: str, xs: list[int]) -> dict[str, Any]:
    return {"name": f"k8s_workflows.maps.{workflow}", "version": VERSION, "inputs": {"xs": xs}}


CASES = {
    "squares": _case("squares", XS),
    "retried": _case("retried_squares", [1, 2, 3]),
    "tolerant": _case("tolerant_squares", [2, 3]),
    "strict": _case("strict_squares", [2, 3]),
    "limited": _case("limited_squares", [1, 2, 3, 4]),
    "legacy": _case("legacy_squares", [1, 2, 3, 4]),
    "legacy_tolerant": _case("legacy_tolerant_squares", [2, 3]),
}


@pytest.fixture(scope="module")
async def runs(clients: Clients) -> dict[str, dict[str, Any]]:
    """One execution of each case, started together by one FlyteRemote and waited for (with the second project's
    run alongside): by case."""
    params = {"action": "execute_all_and_wait", "timeout": 1200, "elements": True, "runs": list(CASES.values())}
    other = {"action": "execute_all_and_wait", "timeout": 1200, "elements": True, "runs": [_case("squares", [1, 2])]}
    answer, other_answer = await asyncio.gather(
        clients.main.remote(PROBE, params, time_limit=1500), clients.other.remote(PROBE, other, time_limit=1500)
    )
    return {**dict(zip(CASES, answer["runs"], strict=True)), "other": other_answer["runs"][0]}


def _elements(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The last report of each element attempt of the run's only map node, by (index, attempt)."""
    (reports,) = answer["elements"].values()
    latest = {(e["index"], e["attempt"]): e for e in reports}
    return [latest[key] for key in sorted(latest)]


async def _pods(node: Node, namespace: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(await asyncio.to_thread(pods, node, namespace, answer["name"]), key=lambda p: p["metadata"]["name"])


async def test_every_elements_typed_output_comes_back_through_the_store(runs: dict[str, dict[str, Any]]) -> None:
    assert outputs(runs["squares"]) == {"o0": [x * x for x in XS]}


async def test_each_element_ran_as_its_own_pod_in_the_project_domains_namespace(
    runs: dict[str, dict[str, Any]], node: Node
) -> None:
    answer = runs["squares"]
    listed = await _pods(node, NAMESPACE, answer)
    assert len(listed) == len(XS)
    assert {p["status"]["phase"] for p in listed} == {"Succeeded"}
    labels = [p["metadata"]["labels"] for p in listed]
    assert {(lb["project"], lb["domain"], lb["node-id"], lb["flyte.org/plugin"]) for lb in labels} == {
        (PROJECT, DOMAIN, "n0", "k8s-pod")
    }
    # The elements' pods are the ones the array node's task execution reports, one per index.
    elements = _elements(answer)
    assert [e["index"] for e in elements] == list(range(len(XS)))
    assert {e["phase"] for e in elements} == {core.TaskExecution.SUCCEEDED}
    assert sorted(e["id"] for e in elements) == [p["metadata"]["name"] for p in listed]


async def test_a_failed_element_is_retried_in_a_new_pod_and_the_map_succeeds(
    runs: dict[str, dict[str, Any]], node: Node
) -> None:
    answer = runs["retried"]
    assert outputs(answer) == {"o0": [1, 4, 9]}
    attempts = [(e["index"], e["attempt"], e["phase"]) for e in _elements(answer)]
    assert attempts == [
        (0, 0, core.TaskExecution.SUCCEEDED),
        (1, 0, core.TaskExecution.FAILED),
        (1, 1, core.TaskExecution.SUCCEEDED),
        (2, 0, core.TaskExecution.SUCCEEDED),
    ]
    # A pod per element attempt (the failed attempt's pod succeeded too: flytekit wrote its error document).
    listed = await _pods(node, NAMESPACE, answer)
    assert sorted(p["metadata"]["labels"]["attempt"] for p in listed) == ["0", "0", "0", "1"]


async def test_below_min_success_ratio_one_the_failed_elements_output_is_none(
    runs: dict[str, dict[str, Any]],
) -> None:
    answer = runs["tolerant"]
    assert outputs(answer) == {"o0": [4, None]}
    phases = [e["phase"] for e in _elements(answer)]
    assert phases.count(core.TaskExecution.FAILED) == 1


async def test_with_min_success_ratio_one_the_elements_error_reaches_flyteremote(
    runs: dict[str, dict[str, Any]],
) -> None:
    answer = runs["strict"]
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "element 3 fails on purpose" in answer["error"], answer["error"]
    assert "ValueError" in answer["error"], answer["error"]


def _alive_at_once(listed: list[dict[str, Any]]) -> int:
    """The most pods alive at one time: each from its creation to its container's end (whole seconds)."""
    spans = []
    for pod in listed:
        created = datetime.fromisoformat(pod["metadata"]["creationTimestamp"])
        (container,) = pod["status"]["containerStatuses"]
        finished = datetime.fromisoformat(container["state"]["terminated"]["finishedAt"])
        spans.append((created, finished))
    # A later pod created in the second an earlier one finished is not counted with it (propeller starts
    # the next element only once it saw one finish).
    return max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans)


async def test_concurrency_bounds_the_elements_pods_alive_at_once(runs: dict[str, dict[str, Any]], node: Node) -> None:
    answer = runs["limited"]
    assert outputs(answer) == {"o0": [1, 4, 9, 16]}
    listed = await _pods(node, NAMESPACE, answer)
    assert len(listed) == 4
    assert _alive_at_once(listed) == 2


async def test_a_legacy_map_task_runs_through_k8s_array_one_pod_per_index(
    runs: dict[str, dict[str, Any]], node: Node
) -> None:
    answer = runs["legacy"]
    assert outputs(answer) == {"o0": [1, 4, 9, 16]}
    listed = await _pods(node, NAMESPACE, answer)
    assert len(listed) == 4
    assert {p["metadata"]["labels"]["flyte.org/plugin"] for p in listed} == {"k8s-array"}
    assert {p["status"]["phase"] for p in listed} == {"Succeeded"}


async def test_a_legacy_map_task_below_min_success_ratio_one_gives_none_for_its_failed_index(
    runs: dict[str, dict[str, Any]],
) -> None:
    assert outputs(runs["legacy_tolerant"]) == {"o0": [4, None]}


async def test_a_second_project_runs_its_pods_in_its_own_namespace(runs: dict[str, dict[str, Any]], node: Node) -> None:
    answer = runs["other"]
    assert outputs(answer) == {"o0": [1, 4]}
    listed = await _pods(node, OTHER_NAMESPACE, answer)
    assert len(listed) == 2
    assert {p["metadata"]["labels"]["project"] for p in listed} == {OTHER_PROJECT}
    assert await _pods(node, NAMESPACE, answer) == []


async def test_aborting_a_map_deletes_its_elements_pods(client: Flytekit, plane: RunningPlane, node: Node) -> None:
    name = f"abort-{uuid.uuid4().hex[:8]}"
    params = {"action": "execute_launch_plan", "name": "k8s_workflows.maps.sleepers", "version": VERSION,
              "inputs": {"xs": [600, 600]}, "execution_name": name}  # fmt: skip
    await client.remote(PROBE, params)
    execution = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
    try:
        for _ in range(360):  # both pods are created within three minutes even on a busy machine
            started = await asyncio.to_thread(pods, node, NAMESPACE, name)
            if len(started) == 2:
                break
            await asyncio.sleep(0.5)
    finally:
        await plane.stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution, cause="stop"))
    assert len(started) == 2
    for _ in range(120):  # the pods go once their finalizers are removed; a minute at most
        left = await asyncio.to_thread(pods, node, NAMESPACE, name)
        if not left:
            break
        await asyncio.sleep(0.5)
    assert left == []
