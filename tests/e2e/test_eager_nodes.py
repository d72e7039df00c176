"""An eager workflow's sub-tasks are node executions of its eager node, as FlyteRemote reads them.

Real flytekit 1.16.31 registers and runs tests/e2e/user_code/eager_pipeline.py on one plane (admin +
propeller + the local backend): its eager task launches each task it calls as an execution of its own,
and admin records each under the eager task's node (admin.managers.eager). The probe then syncs the
execution with its nodes, as `FlyteRemote.sync_execution(..., sync_nodes=True)` users do.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.admin import execution_pb2, project_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from tests.support.flytekit import Flytekit
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, local_plane_config, running_plane

USER_CODE = Path(__file__).with_name("user_code")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
EAGER_PROBE = Path(__file__).with_name("eager_probe.py")
VERSION = "eager-v1"
PIPELINE = "user_code.eager_pipeline.eager_pipeline"
OTHER_PROJECT = "elsewhere"
EAGER_NODE = "n0"  # flytekit's workflow around an eager task: the task's node, then a failure handler


@pytest.fixture(scope="module")
async def plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    async with running_plane(local_plane_config(tmp_path_factory.mktemp("plane"), flytekit_venv)) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    flytekit = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    flytekit.add_package(USER_CODE, "user_code")
    await flytekit.register("user_code/eager_pipeline.py", version=VERSION)
    return flytekit


def _map(wired: str | None) -> dict[str, Any]:
    assert wired is not None
    return plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(wired)))


async def test_an_eager_workflows_tasks_are_node_executions_of_its_eager_node(client: Flytekit) -> None:
    params = {"action": "execute_and_wait", "name": PIPELINE, "version": VERSION, "inputs": {"x": 1}, "timeout": 200}
    answer = await client.remote(PROBE, params, time_limit=240)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _map(answer["outputs"]) == {"o0": 3 * 3 + 4 * 4 + 5 * 5}

    seen = await client.remote(EAGER_PROBE, {"action": "eager_nodes", "name": answer["name"], "eager_node": EAGER_NODE})
    eager = seen["nodes"][EAGER_NODE]
    assert eager["is_parent"] and eager["phase"] == core.NodeExecution.SUCCEEDED
    children = eager["children"]
    # One node per call, in the order the eager task made them, each standing for the execution it launched.
    assert [c["entity"] for c in children] == [
        "user_code.eager_pipeline.add_one",
        "user_code.eager_pipeline.add_one",
        "user_code.eager_pipeline.square",
        "user_code.eager_pipeline.square",
        "user_code.eager_pipeline.square",
        "user_code.eager_pipeline.total",
    ]
    assert {c["phase"] for c in children} == {core.NodeExecution.SUCCEEDED}
    assert {c["execution_phase"] for c in children} == {core.WorkflowExecution.SUCCEEDED}
    assert [c["node_id"] for c in children] == [f"{EAGER_NODE}-{c['execution']}" for c in children]
    assert {c["spec_node_id"] for c in children} == {"eager-call"}  # the one call node of the eager node's workflow
    assert [(_map(c["inputs"]), _map(c["outputs"])) for c in children] == [
        ({"x": 1}, {"o0": 2}),
        ({"x": 2}, {"o0": 3}),
        ({"x": 3}, {"o0": 9}),
        ({"x": 4}, {"o0": 16}),
        ({"x": 5}, {"o0": 25}),
        ({"values": [9, 16, 25]}, {"o0": 50}),
    ]

    listed = seen["listed"]
    assert [n["node_id"] for n in listed] == [c["node_id"] for c in children]
    for node in listed:
        assert node["input_uri"] == node["child_inputs_uri"] != ""
        assert node["output_uri"] == node["child_outputs_uri"] != ""
        assert node["child_mode"] == execution_pb2.ExecutionMetadata.CHILD_WORKFLOW
        assert node["child_parent_node"] == node["node_id"]
    assert [_map(n["outputs"]) for n in listed] == [_map(c["outputs"]) for c in children]


async def test_a_forged_label_naming_another_projects_eager_execution_attaches_nothing(
    plane: RunningPlane, client: Flytekit
) -> None:
    await plane.stub.RegisterProject(
        project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=OTHER_PROJECT, name=OTHER_PROJECT))
    )
    await client.pyflyte(
        "register", "-p", OTHER_PROJECT, "-d", client.domain, "--version", VERSION, "user_code/eager_pipeline.py"
    )
    params = {
        "action": "forge",
        "name": PIPELINE,
        "version": VERSION,
        "inputs": {"x": 1},
        "project": OTHER_PROJECT,
        "task": "user_code.eager_pipeline.add_one",
        "task_inputs": {"x": 41},
        "timeout": 200,
    }
    answer = await client.remote(EAGER_PROBE, params, time_limit=280)
    assert answer["forged"]["phase"] == core.WorkflowExecution.SUCCEEDED, answer["forged"].get("error")
    assert _map(answer["forged"]["outputs"]) == {"o0": 42}
    assert answer["forged_mode"] == execution_pb2.ExecutionMetadata.MANUAL
    assert answer["forged_parent_node"] == ""
    parent = answer["parent"]
    assert parent["phase"] == core.WorkflowExecution.SUCCEEDED, parent.get("error")
    seen = await client.remote(EAGER_PROBE, {"action": "eager_nodes", "name": parent["name"], "eager_node": EAGER_NODE})
    children = seen["nodes"][EAGER_NODE]["children"]
    assert len(children) == 6  # its own calls only
    assert OTHER_PROJECT not in {c["node_id"] for c in children}
    assert all(n["execution"] != answer["forged"]["name"] for n in seen["listed"])
