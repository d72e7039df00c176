"""Propeller killed with SIGKILL while a workflow's pods run on a real Kubernetes node: restarted, it re-attaches.

Propeller runs as its own process (`flyteplane serve propeller`), admin in this one; tasks run as pods
through the `k8s-pod` backend (see tests/e2e/test_k8s_pods_with_flytekit.py for the node, the store and
the pods' settings). While four naps are in flight the engine is killed -- no cleanup, as a crash --
and kept down until one nap has finished unseen; restarted on the same databases and configuration,
it must find the pods it made (their names are the attempts' deterministic names), collect the
finished one, wait for the rest and start the downstream pod -- killed and restarted once more the
moment that pod appears (when the naps' ends and the downstream start fall in one round, the naps'
pods are deleted by then and their end not yet committed) -- and leave nothing behind. A `kubectl get
--watch` records every pod of the execution from before its first pod to the end, so a copy made and
deleted between two looks could not go unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.storage import StorageConfig
from tests.e2e.k8s_plane import (
    DOMAIN,
    NAMESPACE,
    PROJECT,
    WORKFLOWS,
    moto_endpoint,
    node,
    pod_backend_for,
    store,
)
from tests.integration.propeller.helpers import wait
from tests.support.flytekit import Flytekit
from tests.support.kube_node import TASK_IMAGE, Node, binaries
from tests.support.plane import plane_config
from tests.support.processes import ServedComponent, flyteplane_env

__all__ = ["moto_endpoint", "node", "store"]  # fixtures, shared with the other Kubernetes e2e modules

VERSION = "k8s-restart-v1"
NAPS = 4  # the fan-out of k8s_workflows.pods.fanned
NAP_SECONDS = 10  # the first nap's; each next one is five seconds longer


@pytest.fixture(scope="module")
def storage_secret(node: Node, store: StorageConfig) -> str:
    """The store's endpoint and keys as a Secret for every task pod; this module's own, since the pods' tests may
    run beside it (other test processes) with a store of theirs."""
    s3 = store.s3
    assert s3.endpoint_url and s3.access_key_id and s3.secret_access_key
    values = {
        "FLYTE_AWS_ENDPOINT": s3.endpoint_url, "FLYTE_AWS_ACCESS_KEY_ID": s3.access_key_id,
        "FLYTE_AWS_SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(), "AWS_DEFAULT_REGION": s3.region,
    }  # fmt: skip
    name = "flyte-storage-restart"
    node.kubectl("delete", "secret", "-n", NAMESPACE, name, "--ignore-not-found")
    node.kubectl("create", "secret", "generic", "-n", NAMESPACE, name,
                 *(f"--from-literal={k}={v}" for k, v in values.items()))  # fmt: skip
    return name


@dataclass
class PodRecord:
    """Every pod of one execution the API server has shown, by uid: its labels and the phases it went through."""

    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    phases: dict[str, list[str]] = field(default_factory=dict)

    def add(self, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        self.pods[uid] = pod
        phase = (pod.get("status") or {}).get("phase", "")
        seen = self.phases.setdefault(uid, [])
        if not seen or seen[-1] != phase:
            seen.append(phase)

    def all_deleted(self) -> bool:
        return all(pod["metadata"].get("deletionTimestamp") for pod in self.pods.values())

    def of_node(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {uid: pod for uid, pod in self.pods.items() if pod["metadata"]["labels"]["node-id"].startswith(prefix)}


async def _record_pods(node: Node, execution: str, record: PodRecord) -> None:
    """Streams `kubectl get pods --watch` of the execution into `record` until cancelled."""
    process = await asyncio.create_subprocess_exec(
        str(binaries()["kubectl"]), "--kubeconfig", str(node.kubeconfig), "get", "pods", "-n", NAMESPACE,
        "-l", f"execution-id={execution}", "--watch", "-o", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    decoder, text = json.JSONDecoder(), ""
    try:
        while chunk := await process.stdout.read(65536):
            text += chunk.decode()
            while text.strip():  # the watch prints one JSON document per change, one after another
                try:
                    pod, end = decoder.raw_decode(text.lstrip())
                except ValueError:
                    break
                text = text.lstrip()[end:]
                record.add(pod)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def _delete_pods(node: Node, execution: str) -> None:
    """The execution's pods deleted, our finalizer removed first (no engine is left to remove it)."""
    selector = f"execution-id={execution}"
    for pod in node.kubectl("get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "name").split():
        node.kubectl("patch", "-n", NAMESPACE, pod, "--type=merge", "-p", '{"metadata": {"finalizers": null}}')
    node.kubectl("delete", "pods", "-n", NAMESPACE, "-l", selector, "--wait=false")


def _phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


async def _until(what: str, check: Any, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.2)


@pytest.fixture
async def setup(
    tmp_path: Path, node: Node, store: StorageConfig, storage_secret: str, flytekit_venv: Path
) -> AsyncIterator[tuple[admin_pb2_grpc.AdminServiceStub, ServedComponent, str]]:
    """Admin here, propeller in its own process, the workflows registered; and the name the execution will have."""
    from admin.server import start_admin
    from launcher.migrate import migrate

    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db",
        plugins={"task_types": {"python-task": "k8s-pod", "container": "k8s-pod"},
                 "backends": {"k8s-pod": pod_backend_for(node, storage_secret)}},
    )  # fmt: skip
    # The same owner before and after the crash, as a restarted pod of one Deployment would be: no lease to wait out.
    config = config.model_copy(
        update={
            "storage": store.model_copy(update={"local_root": tmp_path / "store"}),
            "propeller": config.propeller.model_copy(update={"owner_id": "k8s-restart-test"}),
        }
    )
    await migrate(config, ("admin", "propeller"), quiet=True)
    s3 = store.s3
    assert s3.endpoint_url and s3.access_key_id and s3.secret_access_key
    env = flyteplane_env(config) | {
        "FLYTEPLANE_STORAGE__DEFAULT_SCHEME": store.default_scheme,
        "FLYTEPLANE_STORAGE__DEFAULT_BUCKET": store.default_bucket,
        "FLYTEPLANE_STORAGE__S3__ENDPOINT_URL": s3.endpoint_url,
        "FLYTEPLANE_STORAGE__S3__ACCESS_KEY_ID": s3.access_key_id,
        "FLYTEPLANE_STORAGE__S3__SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(),
    }
    propeller = ServedComponent("propeller", env, tmp_path / "propeller.log")
    await propeller.start()
    admin = await start_admin(config)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}")
    name = f"restart-{uuid.uuid4().hex[:8]}"
    try:
        client = Flytekit.for_admin(flytekit_venv, admin.grpc_port, admin.http_port, tmp_path / "project")
        client.add_package(WORKFLOWS, "k8s_workflows")
        await client.pyflyte(
            "register", "-p", PROJECT, "-d", DOMAIN, "--version", VERSION, "--image", TASK_IMAGE, "k8s_workflows"
        )
        yield admin_pb2_grpc.AdminServiceStub(channel), propeller, name
    finally:
        await channel.close()
        await propeller.stop()
        await admin.stop(0)
        # A failed run leaves no pod on the node, which other tests share.
        await asyncio.to_thread(_delete_pods, node, name)


async def test_a_restarted_propeller_reattaches_to_its_pods_without_starting_copies(
    setup: tuple[admin_pb2_grpc.AdminServiceStub, ServedComponent, str], node: Node
) -> None:
    stub, propeller, name = setup
    record = PodRecord()
    recorder = asyncio.create_task(_record_pods(node, name, record))
    try:
        await asyncio.sleep(1)  # the watch is established before the first pod can exist
        lp = identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN,
                                       name="k8s_workflows.pods.fanned", version=VERSION)  # fmt: skip
        seconds = literals_pb2.Literal(
            scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=NAP_SECONDS))
        )
        created = await stub.CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project=PROJECT, domain=DOMAIN, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=lp),
                inputs=literals_pb2.LiteralMap(literals={"seconds": seconds}),
            )
        )  # fmt: skip

        def naps() -> dict[str, dict[str, Any]]:
            return {uid: pod for uid, pod in record.of_node("n").items() if pod["metadata"]["labels"]["task-name"]
                    .endswith("naps")}  # fmt: skip

        await _until(
            "the naps running", lambda: sum(_phase(p) == "Running" for p in naps().values()) == NAPS, limit=240
        )
        before_kill = set(naps())
        await propeller.kill()
        # Down until a nap has finished unseen by the engine (the shortest has ten seconds to sleep).
        await _until("a nap succeeding", lambda: any(_phase(p) == "Succeeded" for p in naps().values()), limit=180)
        running_at_restart = {uid for uid, pod in naps().items() if _phase(pod) == "Running"}
        await propeller.start()
        # Killed again as soon as the downstream pod appears: around its creation, whether or not the engine had
        # recorded it (restarted without that record, it must take the pod it finds for the one it would make).
        await _until("the sum's pod", lambda: len(record.pods) > NAPS, limit=120)
        await propeller.kill()
        await propeller.start()

        done = await wait(stub, created.id, limit=180)
        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
        data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=created.id))
        assert data.full_outputs.literals["o0"].scalar.primitive.integer == sum(i * i for i in range(NAPS))
        # Finalizing deletes the pods (the plugin's default).
        await _until("the pods deleted", record.all_deleted, limit=60)
    finally:
        recorder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recorder
    assert propeller.starts == 3
    assert running_at_restart, "every nap finished while the engine was down: the restart re-attached to none running"
    # One pod per task attempt, all of them first attempts: no copy, no retry.
    attempts = [(p["metadata"]["labels"]["node-id"], p["metadata"]["labels"]["attempt"]) for p in record.pods.values()]
    assert len(attempts) == len(set(attempts)) == NAPS + 1, sorted(attempts)
    assert {attempt for _, attempt in attempts} == {"0"}
    # The naps that ran when the engine died are the ones that finished: the same pods, each ran once to Succeeded.
    assert set(naps()) == before_kill
    for uid in before_kill:
        assert record.phases[uid][-2:] == ["Running", "Succeeded"], record.phases[uid]
    # Nothing leaked: the pods of the execution are gone from the node (a pod whose container has finished can
    # still be Running while the kubelet tears it down, so they are waited for).
    left: list[str] = []
    for _ in range(120):
        listed = await asyncio.to_thread(node.kubectl, "get", "pods", "-n", NAMESPACE, "-l", f"execution-id={name}",
                                         "-o", "json")  # fmt: skip
        left = [f"{p['metadata']['name']} {_phase(p)}" for p in json.loads(listed)["items"]]
        if not left:
            break
        await asyncio.sleep(0.5)
    assert left == []
