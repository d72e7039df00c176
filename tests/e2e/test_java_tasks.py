"""flytekit-java workflows on `flyteplane start`: registered with real jflyte, run by the local backend's jflyte.

The plane is the command a user types, on an S3-compatible store (moto), since jflyte reads and writes only s3:// and
gs://. The workflows (tests/e2e/java_workflows: two tasks with typed inputs and outputs, a dynamic workflow, launch
plans) are built with Maven against flytekit-java 0.4.35 and registered with `jflyte register workflows`, which
stages their jars on the store; FlyteRemote launches them and reads the outputs. jflyte and the built jars are cached
(tests/support/jflyte).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_runs_with_flytekit import _outputs
from tests.e2e.test_sandbox import PROBE, S3_KEY, S3_SECRET, Sandbox, _client, _env
from tests.integration.flyteplane.storage.conftest import _start_server, _stop
from tests.support.flytekit import Flytekit, run_client
from tests.support.jflyte import build_workflows, jflyte_home
from tests.support.postgres import free_port

JAVA_WORKFLOWS = Path(__file__).with_name("java_workflows")
WORKFLOW = "org.flyteplane.e2e.GreetingWorkflow"
VERSION = "v1"
BUCKET = "plane"
JVM_OPTIONS = ["-Dorg.slf4j.simpleLogger.defaultLogLevel=INFO", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


@pytest.fixture(scope="module")
def jflyte() -> Path:
    """jflyte's `bin/jflyte`, as scripts/install-jflyte.sh installs it where the plane looks by default."""
    return jflyte_home() / "bin" / "jflyte"


@pytest.fixture(scope="module")
def workflow_jars() -> Path:
    return build_workflows(JAVA_WORKFLOWS)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = _start_server(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        f"{endpoint}/moto-api/",
        tmp_path_factory.mktemp("moto") / "log",
    )
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    _stop(process)


def _s3_env(flytekit_venv: Path) -> dict[str, str]:
    env = _env(
        flytekit_venv,
        {"FLYTEPLANE_STORAGE__S3__ACCESS_KEY_ID": S3_KEY, "FLYTEPLANE_STORAGE__S3__SECRET_ACCESS_KEY": S3_SECRET},
    )
    # The JVM options for short tasks (C1 only, one GC thread) that the README suggests: about 40% less CPU per task.
    plugins = json.loads(env["FLYTEPLANE_PROPELLER__PLUGINS"])
    plugins["backends"]["local"]["jflyte"] = {"jvm_options": JVM_OPTIONS}
    env["FLYTEPLANE_PROPELLER__PLUGINS"] = json.dumps(plugins)
    return env


async def _register(jflyte: Path, plane: Sandbox, moto: str, jars: Path) -> None:
    """`jflyte register workflows`, configured as the README says: the plane's admin, a staging place on its store."""
    env = {
        "PATH": plane.env["PATH"],
        "HOME": plane.env.get("HOME", "/"),
        "FLYTE_PLATFORM_URL": f"127.0.0.1:{plane.env['FLYTEPLANE_ADMIN__GRPC_PORT']}",
        "FLYTE_PLATFORM_INSECURE": "true",
        "FLYTE_STAGING_LOCATION": f"s3://{BUCKET}/jflyte-staging",
        "FLYTE_AWS_ENDPOINT": moto,
        "FLYTE_AWS_ACCESS_KEY_ID": S3_KEY,
        "FLYTE_AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }
    await run_client(
        jflyte, "register", "workflows", "-p", "flytesnacks", "-d", "development", "-v", VERSION, "-cp", jars,
        cwd=jars, env=env, time_limit=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
async def s3_plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, moto: str, jflyte: Path, workflow_jars: Path
) -> AsyncIterator[tuple[Sandbox, Flytekit]]:
    """A plane on moto with the Java workflow registered, and a flytekit client of it."""
    root = tmp_path_factory.mktemp("java-s3")
    plane = Sandbox(
        root / "plane",
        ["--no-agent-server", "--storage", f"s3://{BUCKET}", "--s3-endpoint", moto],
        _s3_env(flytekit_venv),
    )
    await plane.start()
    try:
        await _register(jflyte, plane, moto, workflow_jars)
        yield plane, _client(plane, flytekit_venv, root / "project")
    finally:
        await plane.interrupt()


async def _run_all(client: Flytekit, *runs: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Launches every (launch plan, inputs) at once with FlyteRemote and waits for all: one client start for all."""
    params = {
        "action": "execute_all_and_wait",
        "runs": [{"name": name, "version": VERSION, "inputs": inputs} for name, inputs in runs],
    }
    answer: dict[str, list[dict[str, Any]]] = await client.remote(PROBE, params, time_limit=240)
    return answer["runs"]


@pytest.fixture(scope="module")
async def runs(s3_plane: tuple[Sandbox, Flytekit]) -> dict[str, dict[str, Any]]:
    """The executions the tests below read, launched together."""
    cases = {
        "typed": (WORKFLOW, {"name": "Java", "left": 2, "right": 1}),
        "defaults": ("GreetTwice", {}),
        "raises": (WORKFLOW, {"name": "", "left": 1, "right": 1}),
        "dynamic": ("org.flyteplane.e2e.RepeatWorkflow", {"start": 10, "step": 5, "times": 2}),
    }
    answers = await _run_all(s3_plane[1], *cases.values())
    return dict(zip(cases, answers, strict=True))


def test_a_java_workflow_passes_typed_outputs_from_task_to_task(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["typed"]
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "greeting", "total", "loud") == {
        "greeting": "Hello Java! Hello Java! Hello Java!",
        "total": 3,
        "loud": True,
    }
    assert {node["phase"] for node in answer["nodes"].values()} == {core.NodeExecution.SUCCEEDED}


def test_a_launch_plan_registered_by_jflyte_runs_with_its_default_inputs(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["defaults"]
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "greeting", "total") == {"greeting": "Hello world! Hello world!", "total": 2}


def test_a_java_dynamic_workflow_runs_the_nodes_it_makes(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["dynamic"]
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _outputs(answer, "total") == {"total": 20}


def test_a_java_tasks_exception_fails_the_execution_with_its_message(runs: dict[str, dict[str, Any]]) -> None:
    answer = runs["raises"]
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "IllegalArgumentException: nobody to greet" in answer["error"]


async def test_a_java_task_on_the_local_store_fails_saying_jflyte_needs_s3_or_gs(
    tmp_path: Path, flytekit_venv: Path, moto: str, jflyte: Path, workflow_jars: Path
) -> None:
    # Registration stages the jars on S3 (jflyte can stage nowhere else); the plane keeps its data on file://.
    plane = Sandbox(tmp_path / "plane", ["--no-agent-server"], _env(flytekit_venv))
    await plane.start()
    try:
        await _register(jflyte, plane, moto, workflow_jars)
        client = _client(plane, flytekit_venv, tmp_path / "project")
        [answer] = await _run_all(client, (WORKFLOW, {"name": "a", "left": 1, "right": 1}))
    finally:
        await plane.interrupt()
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "jflyte (flytekit-java) reads and writes only s3:// and gs://" in answer["error"]
    assert "--storage s3://" in answer["error"]
