"""Real flytekit workflows run to completion on admin + propeller + the local backend, and FlyteRemote reads them.

The module runs twice: with the local backend's warm attempts forked from fork servers (the default),
and in reuse mode (successive attempts in long-lived warm workers); both must give the same results.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from tests.support.flytekit import Flytekit
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, local_plane_config, running_plane

WORKFLOWS = Path(__file__).with_name("workflows")
ENGINE_CASES = Path(__file__).with_name("engine_cases")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
VERSION = "run-v1"


@pytest.fixture(scope="module", params=["fork", "reuse"])
def warm_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
async def run_plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, warm_mode: str
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    config = local_plane_config(directory, flytekit_venv, warm_mode=warm_mode)
    async with running_plane(config) as plane:
        yield plane


@pytest.fixture(scope="module")
async def client(run_plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    project = tmp_path_factory.mktemp("project")
    flytekit = Flytekit.for_admin(flytekit_venv, run_plane.admin.grpc_port, run_plane.admin.http_port, project)
    flytekit.add_package(WORKFLOWS, "workflows")
    flytekit.add_package(ENGINE_CASES, "engine_cases")
    await flytekit.register("workflows", "engine_cases", version=VERSION)
    return flytekit


async def _run(client: Flytekit, launch_plan: str, **inputs: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await client.remote(
        PROBE,
        {"action": "execute_and_wait", "name": launch_plan, "version": VERSION, "inputs": inputs},
        time_limit=240,
    )
    return answer


def _runner_records(work_dir: Path, execution: str = "") -> dict[str, dict[str, Any]]:
    """What the local backend recorded of every attempt it started (runner.json), by attempt directory; only
    `execution`'s attempts (named `<execution>-<digest>`) when given."""
    pattern = f"{execution}-*/runner.json" if execution else "*/runner.json"
    return {path.parent.name: json.loads(path.read_text()) for path in work_dir.glob(pattern)}


def _outputs(answer: dict[str, Any], *names: str) -> dict[str, Any]:
    literals = literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"]))
    return plain_map(literals_pb2.LiteralMap(literals={n: literals.literals[n] for n in names}))


async def test_typed_inputs_and_outputs_round_trip_through_real_task_processes(client: Flytekit) -> None:
    answer = await _run(client, "workflows.typed_io.typed_io_wf", a=2, b="hi")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    outputs = _outputs(answer, "o0", "o1", "o3", "o5")
    assert outputs["o0"] == 4  # flag defaults to True: a * 2
    assert outputs["o1"] == "HI"
    assert outputs["o3"] == {"k": [11, 12, 13]}  # defaults xs=[1,2,3], d={"k": 10}
    assert outputs["o5"] == 4  # a file of a2 = 4 lines, written by one task and counted by another


async def test_dynamic_map_conditional_subworkflow_and_launch_plan_nodes_produce_the_right_values(
    client: Flytekit,
) -> None:
    answer = await _run(client, "workflows.control_flow.control_flow_wf", n=4, xs=[1, 2, 3])
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    outputs = _outputs(answer, "o0", "o1", "o2", "o3", "o4", "o5")
    assert outputs["o0"] == 0 + 1 + 4 + 9  # @dynamic sum of squares below 4
    assert outputs["o1"] == [1, 4, 9]  # map task
    assert outputs["o2"] == 14
    assert outputs["o3"] == 7.0  # n > 3: halve(14)
    assert outputs["o4"] == 16 + 14  # sub-workflow: square(4) + summed
    assert outputs["o5"] == 16 + 100  # launch-plan node with its default y
    assert set(answer["nodes"]) >= {"n0", "n1", "n2", "n3", "n4", "n5"}


async def test_a_task_that_fails_twice_then_succeeds_shows_three_attempts(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.behaviours.flaky_wf", x=10)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "o0") == {"o0": 12}
    assert answer["nodes"]["n0"]["attempts"] == 3


async def test_a_failing_tasks_user_message_reaches_the_execution(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.behaviours.failing_wf", x=-4)
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "x must be positive, got -4" in answer["error"]


async def test_a_task_over_its_timeout_fails(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.behaviours.timeout_wf")
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "timeout" in answer["error"].lower()


async def test_terminating_a_running_execution_aborts_it(client: Flytekit) -> None:
    answer: dict[str, Any] = await client.remote(
        PROBE,
        {"action": "execute_then_terminate", "name": "engine_cases.behaviours.long_wf", "version": VERSION},
        time_limit=240,
    )
    assert answer["phase"] == core.WorkflowExecution.ABORTED


async def test_a_map_task_tolerates_failures_within_its_success_ratio(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.behaviours.partial_map_wf", xs=[1, 2, 3, 4])
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "o0") == {"o0": [10, 20, None, 40]}


async def test_a_conditional_without_a_true_case_fails_with_the_users_message(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.behaviours.else_fail_wf", x=5)
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "x must be below 3" in answer["error"]


async def test_a_checkpoint_written_before_a_failure_is_read_on_the_retry(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.behaviours.checkpoint_wf", x=7)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "o0") == {"o0": 701}


async def test_gates_sleep_then_wait_for_a_signal_and_an_approval(client: Flytekit) -> None:
    answer: dict[str, Any] = await client.remote(
        PROBE,
        {
            "action": "execute_with_signals",
            "name": "engine_cases.behaviours.gates_wf",
            "version": VERSION,
            "inputs": {"x": 3},
            "signals": {"bump": 5, "ok": True},
        },
        time_limit=240,
    )
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "o0") == {"o0": 11}


async def test_pyflyte_run_remote_with_a_local_file_input_reads_it_in_the_task(
    client: Flytekit, tmp_path: Path
) -> None:
    data = tmp_path / "three-lines.txt"
    data.write_text("a\nb\nc\n")
    await client.run_remote("workflows/typed_io.py", "typed_io_wf", "--a", "1", "--f", str(data), name="with-file")
    answer: dict[str, Any] = await client.remote(
        PROBE, {"action": "wait_for", "execution_name": "with-file"}, time_limit=240
    )
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "o6") == {"o6": 3}


async def test_dataframes_directories_and_nested_dynamics_flow_between_tasks(client: Flytekit) -> None:
    answer = await _run(client, "engine_cases.data.data_wf", n=4)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    # sum of squares below 4; a 4-row StructuredDataset; a directory of 4 files; sum(i * 4 for i < 4)
    assert _outputs(answer, "o0", "o1", "o2", "o3") == {"o0": 14, "o1": 4, "o2": 4, "o3": 24}


async def test_nested_dynamics_finish_with_more_waiting_parents_than_max_parallelism(
    client: Flytekit, run_plane: RunningPlane, warm_mode: str
) -> None:
    # 13 dynamic parents wait on their children at once under max_parallelism 4: a parent running its generated
    # nodes holds no slot (as on Flyte), or the execution would stall with every slot taken by a waiting parent.
    answer = await _run(client, "engine_cases.parallelism.narrow", n=18, k=3)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    # Each dynamic call's graph depends on its own `start`: a graph kept from an earlier call would miscount.
    assert _outputs(answer, "o0") == {"o0": sum(i + 1 for i in range(18))}
    # In reuse mode the dynamic tasks ran in reuse workers too, several of them in the same worker.
    work_dir = Path(run_plane.config.propeller.plugins.backends["local"]["work_dir"])
    records = await asyncio.to_thread(_runner_records, work_dir, answer["name"])
    assert len(records) == 13 + 18 + 13  # dynamics, plus_one tasks, the sums of every dynamic
    assert {r.get("reuse", False) for r in records.values()} == {warm_mode == "reuse"}


async def test_every_task_ran_on_the_planes_warm_path(
    client: Flytekit, run_plane: RunningPlane, warm_mode: str
) -> None:
    answer = await _run(client, "workflows.typed_io.typed_io_wf", a=1, b="x")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    work_dir = Path(run_plane.config.propeller.plugins.backends["local"]["work_dir"])
    records = await asyncio.to_thread(_runner_records, work_dir, answer["name"])
    assert records
    assert {(r.get("warm"), r.get("reuse", False)) for r in records.values()} == {(True, warm_mode == "reuse")}
    # Every attempt of the module's executions started warm (in reuse mode, @dynamic tasks too: a worker drops the
    # graph flytekit kept from the task's previous call, plugins.local.warm.plan).
    everything = await asyncio.to_thread(_runner_records, work_dir)
    assert {r.get("warm") for r in everything.values()} == {True}
    if warm_mode == "reuse":
        assert any(r.get("reuse") for r in everything.values())
