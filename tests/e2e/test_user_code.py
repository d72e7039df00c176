"""What Flyte users write runs on the plane: echo branches, pickled (interactive) tasks, eager workflows,
bundles with data files, code an image carries, and the version flytekit's tools print.

Real flytekit 1.16.31 drives one plane (admin + propeller + the local backend, warm starts on) with the
small workflows of tests/e2e/user_code, through `pyflyte` and FlyteRemote as a user would.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from tests.support.flytekit import Flytekit
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, local_plane_config, running_plane

USER_CODE = Path(__file__).with_name("user_code")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
USER_PROBE = Path(__file__).with_name("user_code_probe.py")
VERSION = "user-v1"
BAKED_IMAGE = "registry.example/baked:1"  # mapped to the project directory below
UNMAPPED_IMAGE = "registry.example/unmapped:1"


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory, start_mode: str) -> Path:
    return tmp_path_factory.mktemp(f"project-{start_mode}")


@pytest.fixture(scope="module", params=["fork", "cold"])
def start_mode(request: pytest.FixtureRequest) -> str:
    """Warm (forked) or cold task processes: a bundle's files must be where flytekit expects either way. (Reuse
    workers start attempts through the same path as forks; their run of this module passed too, at twice the time.)"""
    return str(request.param)


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, project_dir: Path, start_mode: str
) -> AsyncIterator[RunningPlane]:
    # The image that carries the code maps to an environment whose python_path holds it, as a user's
    # configuration would map their own image onto their checkout.
    images = {BAKED_IMAGE: {"venv": str(flytekit_venv.parent), "python_path": [str(project_dir)]}}
    starts: dict[str, Any] = {"warm": False} if start_mode == "cold" else {"warm_mode": start_mode}
    config = local_plane_config(tmp_path_factory.mktemp("plane"), flytekit_venv, images=images, **starts)
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, project_dir: Path) -> Flytekit:
    flytekit = Flytekit.for_admin(flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, project_dir)
    flytekit.add_package(USER_CODE, "user_code")
    await flytekit.register("user_code/echo_branch.py", "user_code/eager_flow.py", version=VERSION)
    return flytekit


async def _run(client: Flytekit, launch_plan: str, version: str = VERSION, **inputs: Any) -> dict[str, Any]:
    params = {"action": "execute_and_wait", "name": launch_plan, "version": version, "inputs": inputs, "timeout": 200}
    answer: dict[str, Any] = await client.remote(PROBE, params, time_limit=240)
    return answer


def _outputs(answer: dict[str, Any]) -> dict[str, Any]:
    return plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))


async def test_pyflyte_info_shows_a_flyte_style_backend_version(client: Flytekit) -> None:
    finished = await client.pyflyte("info")
    line = next(line for line in finished.stdout.splitlines() if "Flyte Backend Version" in line)
    assert line.split(":", 1)[1].strip().startswith("v0.")


async def test_an_echo_branch_passes_its_input_through(client: Flytekit) -> None:
    small = await _run(client, "user_code.echo_branch.double_if_small", a=4)
    large = await _run(client, "user_code.echo_branch.double_if_small", a=40)
    assert small["phase"] == core.WorkflowExecution.SUCCEEDED, small.get("error")
    assert large["phase"] == core.WorkflowExecution.SUCCEEDED, large.get("error")
    assert (_outputs(small), _outputs(large)) == ({"o0": 8}, {"o0": 40})


@pytest.mark.parametrize("entity", ["task", "workflow"])
async def test_a_pickled_interactive_mode_entity_runs(client: Flytekit, entity: str) -> None:
    # FlyteRemote(interactive_mode_enabled=True) ships the entity as `pkl.gz`, opened from the working directory.
    params = {"action": "interactive", "entity": entity, "inputs": {"x": 7}, "version": f"pickled-{entity}"}
    if entity == "task":
        params["inputs"]["factor"] = 6
    answer = await client.remote(USER_PROBE, params, time_limit=240)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer) == ({"o0": 42} if entity == "task" else {"o0": "value=21"})


async def test_a_copy_all_bundle_puts_data_files_in_the_working_directory(client: Flytekit) -> None:
    await client.pyflyte(
        "register", "-p", client.project, "-d", client.domain, "--version", "copy-all", "--copy", "all",
        "user_code/data_files.py",
    )  # fmt: skip
    # The task writes over the file it read: the next run (a fork of the same server, when warm) has its own copy.
    for name in ("flyte", "again"):
        answer = await _run(client, "user_code.data_files.greet", version="copy-all", name=name)
        assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
        assert _outputs(answer) == {"o0": f"hello, {name}"}


async def test_an_eager_workflow_launches_its_tasks_as_executions_of_the_plane(client: Flytekit) -> None:
    # The eager task runs FlyteRemote inside itself: it reaches admin through FLYTE_PLATFORM_URL.
    answer = await _run(client, "user_code.eager_flow.eager_sum", x=1)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer) == {"o0": (1 + 1) * (1 + 10 + 1)}
    children = (await client.remote(USER_PROBE, {"action": "eager_children", "name": answer["name"]}))["children"]
    assert sorted(child["entity"] for child in children) == ["user_code.eager_flow.add_one"] * 2 + [
        "user_code.eager_flow.times"
    ]
    assert {child["phase"] for child in children} == {core.WorkflowExecution.SUCCEEDED}


async def test_a_task_type_of_the_users_own_runs_like_a_container_task(client: Flytekit) -> None:
    # Flyte's container plugin is its default plugin: no configuration names the task type "scale".
    await client.register("user_code/custom_task_type.py", version="custom-type")
    answer = await _run(client, "user_code.custom_task_type.tripled", version="custom-type", x=14)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer) == {"o0": 42}


async def _register_without_bundle(client: Flytekit, image: str, version: str) -> None:
    await client.pyflyte(
        "register", "-p", client.project, "-d", client.domain, "--version", version, "--copy", "none",
        "--image", image, "user_code/baked.py",
    )  # fmt: skip


async def test_code_registered_without_a_bundle_runs_from_the_directory_its_image_maps_to(client: Flytekit) -> None:
    await _register_without_bundle(client, BAKED_IMAGE, "baked")
    answer = await _run(client, "user_code.baked.shout_wf", version="baked", text="flyte")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer) == {"o0": "FLYTE!"}


async def test_code_of_an_unmapped_image_fails_saying_how_to_map_the_image(client: Flytekit) -> None:
    await _register_without_bundle(client, UNMAPPED_IMAGE, "unmapped")
    answer = await _run(client, "user_code.baked.shout_wf", version="unmapped", text="flyte")
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "ModuleNotFoundError" in answer["error"]
    assert f"image {UNMAPPED_IMAGE!r} is not mapped" in answer["error"]
    assert "python_path" in answer["error"]
