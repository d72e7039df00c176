"""The resource manager and the pod and array backends against scripted API answers (the fake API server).

The fake is the one mock boundary here (see `fake_apiserver`): it serves over real HTTP to the
real `kubernetes` client, and scripts what a real cluster does only rarely — server errors,
throttling, quota refusals, conflicts, external deletions, events.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flyteidl_py.core import literals_pb2
from flyteplane.storage import Storage
from plugins.core import Phase, TaskExecutionContext
from plugins.k8s import array, pod
from plugins.k8s.array import ArrayPlugin
from plugins.k8s.client import KubeApiError
from plugins.k8s.manager import FINALIZER, KubePlugin
from tests.integration.plugins.helpers import Wakeups
from tests.integration.plugins.k8s.conftest import kube
from tests.integration.plugins.k8s.fake_apiserver import FakeApiServer, Injected, status_body
from tests.unit.plugins.k8s.contexts import context, template

NS = "flytesnacks-development"


@pytest.fixture
async def pods(fake_api: FakeApiServer) -> AsyncIterator[KubePlugin]:
    plugin = pod.create({"kube": kube(fake_api.url)})
    yield plugin
    await plugin.aclose()


def scalars(storage: Storage, **kw: Any) -> TaskExecutionContext:
    return context(storage, template("examples.basics.scalars"), **kw)


def succeeded(name: str) -> dict[str, Any]:
    return {"phase": "Succeeded", "containerStatuses": [
        {"name": name, "ready": False, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}  # fmt: skip


async def test_pod_is_created_once_observed_and_released(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    ctx = scalars(storage)
    first = await pods.handle(ctx)
    assert first.phase is Phase.QUEUED
    assert first.reason == "task submitted to K8s"
    created = fake_api.get("pods", NS, ctx.generated_name)
    assert created is not None
    assert created["metadata"]["finalizers"] == [FINALIZER]
    # A restarted propeller without the state finds the pod instead of making another one.
    again = await pods.handle(ctx)
    assert again.phase is Phase.QUEUED
    assert fake_api.names("pods") == [ctx.generated_name]
    ctx = dataclasses.replace(ctx, plugin_state=again.state)
    assert (await pods.handle(ctx)).phase is Phase.QUEUED
    primary = created["metadata"]["annotations"]["primary_container_name"]
    fake_api.set_status("pods", NS, ctx.generated_name, {"phase": "Running", "containerStatuses": [
        {"name": primary, "ready": True, "state": {"running": {}}}]})  # fmt: skip
    running = await pods.handle(ctx)
    assert running.phase is Phase.RUNNING
    fake_api.set_status("pods", NS, ctx.generated_name, succeeded(primary))
    done = await pods.handle(dataclasses.replace(ctx, plugin_state=running.state))
    assert done.phase is Phase.SUCCESS
    await pods.finalize(dataclasses.replace(ctx, plugin_state=done.state))
    assert fake_api.names("pods") == []


async def test_retryable_api_errors_fail_the_round_and_the_next_round_succeeds(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    fake_api.injected.append(Injected("POST", "/pods$", 500, status_body(500, "InternalError", "etcd timeout")))
    fake_api.injected.append(Injected("POST", "/pods$", 429, status_body(429, "TooManyRequests", "slow down")))
    ctx = scalars(storage)
    for expected in ("etcd timeout", "slow down"):
        with pytest.raises(KubeApiError, match=expected) as raised:
            await pods.handle(ctx)
        assert raised.value.retryable
    assert (await pods.handle(ctx)).phase is Phase.QUEUED


async def test_an_invalid_object_is_a_permanent_failure(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    message = 'Pod "x" is invalid: spec.containers[0].image: Required value'
    fake_api.injected.append(Injected("POST", "/pods$", 422, status_body(422, "Invalid", message)))
    transition = await pods.handle(scalars(storage))
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert transition.error is not None and transition.error.code == "InvalidResource"
    assert "Required value" in transition.error.message


async def test_exceeded_quota_waits_for_resources_then_starts(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    message = 'pods "x" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=8, limited: cpu=8'
    fake_api.injected.append(Injected("POST", "/pods$", 403, status_body(403, "Forbidden", message)))
    ctx = scalars(storage)
    waiting = await pods.handle(ctx)
    assert waiting.phase is Phase.WAITING_FOR_RESOURCES
    assert "Exceeded resourcequota" in waiting.reason
    assert (await pods.handle(dataclasses.replace(ctx, plugin_state=waiting.state))).phase is Phase.QUEUED


async def test_forbidden_is_a_retryable_failure(fake_api: FakeApiServer, pods: KubePlugin, storage: Storage) -> None:
    message = 'pods is forbidden: User "propeller" cannot create resource "pods"'
    fake_api.injected.append(Injected("POST", "/pods$", 403, status_body(403, "Forbidden", message)))
    transition = await pods.handle(scalars(storage))
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None and transition.error.code == "RuntimeFailure"


async def test_a_pod_deleted_by_someone_else_is_a_system_retry(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    ctx = scalars(storage)
    started = await pods.handle(ctx)
    fake_api.remove("pods", NS, ctx.generated_name)
    gone = await pods.handle(dataclasses.replace(ctx, plugin_state=started.state))
    assert gone.phase is Phase.RETRYABLE_FAILURE
    assert gone.error is not None and gone.error.code == "ResourceDeletedExternally"


async def test_a_pod_gone_after_its_task_wrote_its_outputs_is_a_success_for_propeller_to_judge(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    # Finalize deleted it, then propeller died before it recorded the attempt's end: restarted, it must not
    # retry an attempt that finished (its pod would run a second time).
    ctx = scalars(storage)
    started = await pods.handle(ctx)
    await storage.write_proto(ctx.paths.outputs, literals_pb2.LiteralMap())
    await pods.finalize(dataclasses.replace(ctx, plugin_state=started.state))
    assert fake_api.names("pods") == []
    again = await pods.handle(dataclasses.replace(ctx, plugin_state=started.state))
    assert again.phase is Phase.SUCCESS, again.error
    assert "gone after its task finished" in again.reason
    assert fake_api.names("pods") == []


async def test_a_pod_being_deleted_before_it_finished_is_a_system_retry(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    ctx = scalars(storage)
    started = await pods.handle(ctx)
    await pods.manager.client.delete(pod.POD, NS, ctx.generated_name)  # held by our finalizer
    transition = await pods.handle(dataclasses.replace(ctx, plugin_state=started.state))
    assert transition.error is not None and transition.error.code == "UnexpectedObjectDeletion"


async def test_abort_deletes_and_finalize_lets_go(fake_api: FakeApiServer, pods: KubePlugin, storage: Storage) -> None:
    ctx = scalars(storage)
    ctx = dataclasses.replace(ctx, plugin_state=(await pods.handle(ctx)).state)
    await pods.abort(ctx)
    held = fake_api.get("pods", NS, ctx.generated_name)
    assert held is not None and held["metadata"].get("deletionTimestamp")
    await pods.finalize(ctx)
    assert fake_api.names("pods") == []
    await pods.finalize(ctx)  # idempotent


async def test_finalizer_removal_retries_on_conflict(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    ctx = scalars(storage)
    ctx = dataclasses.replace(ctx, plugin_state=(await pods.handle(ctx)).state)
    conflict = status_body(
        409, "Conflict", "the object has been modified; please apply your changes to the latest version"
    )
    fake_api.injected.append(Injected("PATCH", "/pods/", 409, conflict, times=2))
    await pods.finalize(ctx)
    assert fake_api.names("pods") == []


async def test_kubernetes_events_are_reported_and_bump_the_version(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    ctx = scalars(storage)
    ctx = dataclasses.replace(ctx, plugin_state=(await pods.handle(ctx)).state)
    quiet = await pods.handle(ctx)
    when = datetime.now(UTC) + timedelta(seconds=1)
    fake_api.add_event(NS, ctx.generated_name, "Pod", "FailedScheduling", "0/3 nodes are available", when)
    noisy = await pods.handle(dataclasses.replace(ctx, plugin_state=quiet.state))
    assert "FailedScheduling: 0/3 nodes are available" in noisy.reason
    assert noisy.version > quiet.version
    again = await pods.handle(dataclasses.replace(ctx, plugin_state=noisy.state))
    assert "FailedScheduling" not in again.reason  # each event once


async def test_the_watcher_wakes_propeller_when_the_pod_changes(
    fake_api: FakeApiServer, pods: KubePlugin, storage: Storage
) -> None:
    wakeups = Wakeups()
    ctx = scalars(storage, wake=wakeups)
    ctx = dataclasses.replace(ctx, plugin_state=(await pods.handle(ctx)).state)
    await pods.handle(ctx)
    await asyncio.sleep(0.3)
    wakeups.count = 0
    fake_api.set_status("pods", NS, ctx.generated_name, {"phase": "Running"})
    assert await wakeups.wait(5.0)


async def test_missing_namespace_is_created_when_configured(fake_api: FakeApiServer, storage: Storage) -> None:
    plugin = pod.create({"kube": kube(fake_api.url, namespace_template="team-{{ project }}", create_namespaces=True)})
    try:
        assert (await plugin.handle(scalars(storage))).phase is Phase.QUEUED
        assert "team-flytesnacks" in fake_api.namespaces
    finally:
        await plugin.aclose()


def map_inputs(values: list[int]) -> literals_pb2.LiteralMap:
    items = [
        literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v))) for v in values
    ]
    return literals_pb2.LiteralMap(
        literals={"x": literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))}
    )


def container_array_task(parallelism: int, ratio: float) -> Any:
    task = template("examples.basics.scalars")
    task.type = "container_array"
    task.custom.Clear()
    task.custom.update({"parallelism": str(parallelism), "minSuccessRatio": ratio})
    return task


async def test_array_runs_one_pod_per_index_within_parallelism_and_gathers_outputs(
    fake_api: FakeApiServer, storage: Storage
) -> None:
    plugin = array.create({"kube": kube(fake_api.url)})
    ctx = context(storage, container_array_task(parallelism=2, ratio=0.6))
    await storage.write_proto(ctx.paths.inputs, map_inputs([1, 2, 3]))
    try:
        first = await plugin.handle(ctx)
        assert first.phase is Phase.RUNNING
        names = fake_api.names("pods")
        assert names == [f"{ctx.generated_name}-0", f"{ctx.generated_name}-1"]  # parallelism 2
        subtask = fake_api.get("pods", NS, names[0])
        assert subtask is not None
        container = subtask["spec"]["containers"][0]
        assert {"name": "FLYTE_K8S_ARRAY_INDEX", "value": "0"} in container["env"]
        assert container["args"][container["args"].index("--output-prefix") + 1] == ctx.paths.output_prefix
        for index, name in enumerate(names):
            created = fake_api.get("pods", NS, name)
            assert created is not None
            fake_api.set_status(
                "pods", NS, name, succeeded(created["metadata"]["annotations"]["primary_container_name"])
            )
            out = literals_pb2.LiteralMap(literals={"y": literals_pb2.Literal(scalar=literals_pb2.Scalar(
                primitive=literals_pb2.Primitive(integer=index * 10)))})  # fmt: skip
            await storage.write_proto(storage.join(ctx.paths.output_prefix, str(index), "outputs.pb"), out)
        ctx = dataclasses.replace(ctx, plugin_state=first.state)
        second = await plugin.handle(ctx)
        assert second.phase is Phase.RUNNING
        third_pod = f"{ctx.generated_name}-2"
        assert third_pod in fake_api.names("pods")
        fake_api.set_status("pods", NS, third_pod, {"phase": "Failed", "reason": "Error"})
        done = await plugin.handle(dataclasses.replace(ctx, plugin_state=second.state))
        assert done.phase is Phase.SUCCESS, done.reason  # 2 of 3 >= ceil(0.6 * 3)
        assert [r.phase for r in done.external_resources] == [3, 3, 5]  # SUCCEEDED, SUCCEEDED, FAILED
        outputs = await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap)
        names_out = list(template("examples.basics.scalars").interface.outputs.variables)
        for name in names_out:
            assert len(outputs.literals[name].collection.literals) == 3
        await plugin.finalize(dataclasses.replace(ctx, plugin_state=done.state))
        assert fake_api.names("pods") == []
    finally:
        await plugin.aclose()


async def test_array_fails_once_too_few_indexes_can_succeed(fake_api: FakeApiServer, storage: Storage) -> None:
    plugin = array.create({"kube": kube(fake_api.url)})
    ctx = context(storage, container_array_task(parallelism=0, ratio=1.0))
    await storage.write_proto(ctx.paths.inputs, map_inputs([1, 2]))
    try:
        started = await plugin.handle(ctx)
        fake_api.set_status("pods", NS, f"{ctx.generated_name}-1", {"phase": "Failed", "reason": "Error"})
        failed = await plugin.handle(dataclasses.replace(ctx, plugin_state=started.state))
        assert failed.phase is Phase.RETRYABLE_FAILURE
        assert "1 of 2 subtasks failed" in failed.reason
        held = fake_api.get("pods", NS, f"{ctx.generated_name}-0")
        assert held is not None and held["metadata"].get("deletionTimestamp")  # the rest were aborted
    finally:
        await plugin.aclose()


def test_array_plugin_is_the_legacy_map_backend() -> None:
    assert ArrayPlugin.task_types == ("container_array",)
