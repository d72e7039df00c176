"""Spark and Ray workflows registered with real flytekit run through the whole plane on the non-Kubernetes backends.

Admin, propeller and datacatalog run in this process (tests.support.plane); `pyflyte register`
(fast registration) and FlyteRemote come from the Spark and Ray task environments; propeller
serves `spark` with `spark-local` (pyspark local mode) and `ray` with `ray-jobs` (the session's
Ray head). Outputs and log links are read back through admin.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import node_execution_pb2, task_execution_pb2
from flyteidl_py.core import identifier_pb2, literals_pb2
from tests.integration.plugins.conftest import RayHead
from tests.integration.plugins.task_envs import code_root, ray_venv, spark_venv
from tests.support.flytekit import Flytekit
from tests.support.paths import REPO_ROOT
from tests.support.plane import RunningPlane, plane_config, running_plane

PROBE = REPO_ROOT / "tests" / "e2e" / "flyteremote_probe.py"


@pytest.fixture(scope="module")
async def plane(tmp_path_factory: pytest.TempPathFactory, ray_head: RayHead) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    plugins = {
        "task_types": {"python-task": "local", "spark": "spark-local", "ray": "ray-jobs"},
        "backends": {
            "spark-local": {
                "master": "local[2]",
                "local": {"default_environment": {"venv": str(spark_venv())}, "work_dir": str(directory / "spark")},
            },
            "ray-jobs": {"address": ray_head.dashboard, "fast_register_dir": str(directory / "ray-code")},
        },
    }
    config = plane_config(
        directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db", plugins=plugins
    )
    async with running_plane(config) as running:
        yield running


async def registered(plane: RunningPlane, venv: Path, module: str, where: Path, version: str) -> Flytekit:
    flytekit = Flytekit.for_admin(venv / "bin", plane.admin.grpc_port, plane.admin.http_port, where / "project")
    flytekit.add_package(code_root(where / "code", module) / "k8s_examples", "k8s_examples")
    await flytekit.register("k8s_examples", version=version)
    return flytekit


async def task_logs(plane: RunningPlane, execution: str) -> list[str]:
    """The log links admin holds for the execution's task attempts."""
    ident = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name=execution)
    nodes = await plane.stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100)
    )
    names = []
    for node in nodes.node_executions:
        attempts = await plane.stub.ListTaskExecutions(
            task_execution_pb2.TaskExecutionListRequest(node_execution_id=node.id, limit=100)
        )
        names += [log.name for attempt in attempts.task_executions for log in attempt.closure.logs]
    return names


async def test_a_spark_workflow_runs_on_local_spark(plane: RunningPlane, tmp_path: Path) -> None:
    client = await registered(plane, spark_venv(), "spark_tasks", tmp_path, "spark-v1")
    answer = await client.remote(
        PROBE,
        {"action": "execute_and_wait", "name": "k8s_examples.spark_tasks.spark_wf", "version": "spark-v1",
         "inputs": {"n": 20}, "timeout": 280},
        time_limit=300,
    )  # fmt: skip
    assert "outputs" in answer, answer
    outputs = literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"]))
    assert outputs.literals["o0"].scalar.primitive.integer == 10
    assert "Task log (local process)" in await task_logs(plane, answer["name"])


async def test_a_ray_workflow_runs_on_the_ray_cluster(plane: RunningPlane, tmp_path: Path) -> None:
    client = await registered(plane, ray_venv(), "ray_tasks", tmp_path, "ray-v1")
    answer = await client.remote(
        PROBE,
        {"action": "execute_and_wait", "name": "k8s_examples.ray_tasks.ray_wf", "version": "ray-v1",
         "inputs": {"n": 6}, "timeout": 280},
        time_limit=300,
    )  # fmt: skip
    assert "outputs" in answer, answer
    outputs = literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"]))
    assert outputs.literals["o0"].scalar.primitive.integer == sum(i * i for i in range(6))
    assert {"Ray job log", "Ray dashboard"} <= set(await task_logs(plane, answer["name"]))
