"""Agents out of the box: `flyteplane start` runs flytekit's agent server, so a FileSensor workflow just runs.

The plane is the command a user types (as in test_sandbox); flytekit registers and launches with
`pyflyte run --remote`; the sensor's file is created only after the launch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_sandbox import Sandbox, _client, _env, _wait

AGENT_WORKFLOWS = Path(__file__).with_name("agent_workflows")


@pytest.fixture
async def sandbox(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[Sandbox]:
    plane = Sandbox(tmp_path / "plane", [], _env(flytekit_venv))
    await plane.start()
    yield plane
    if plane.process is not None and plane.process.returncode is None:
        await plane.interrupt()


async def test_a_file_sensor_waits_for_a_file_created_after_launch(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    assert "flytekit's agent server" in sandbox.output
    client = _client(sandbox, flytekit_venv, tmp_path / "project")
    client.add_package(AGENT_WORKFLOWS, "agent_workflows")
    arrives, never = tmp_path / "arrives.txt", tmp_path / "never.txt"
    await client.run_remote("agent_workflows/sensors.py", "sensor_wf", "--path", str(arrives), name="sensed-1")
    await client.run_remote("agent_workflows/sensors.py", "impatient_wf", "--path", str(never), name="gave-up-1")
    await asyncio.sleep(5)  # the sensor pokes a file that is not there yet
    # Ctrl-C and start again: a new engine and a new agent server (on another port) resume the sensor.
    assert await sandbox.interrupt() == 0
    await sandbox.start()
    arrives.write_text("it came")
    answer = await _wait(client, "sensed-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    from tests.e2e.test_runs_with_flytekit import _outputs

    # The reading task ran after the sensor, so it found the file the test wrote after the launch.
    assert _outputs(answer, "o0") == {"o0": "it came"}
    # The sensor's own timeout (3 s) is honoured: the engine aborts the agent's task and fails the node.
    impatient = await _wait(client, "gave-up-1")
    assert impatient["phase"] == core.WorkflowExecution.FAILED
    assert "timeout" in impatient.get("error", "").lower(), impatient


async def test_a_users_own_agent_served_by_pyflyte_serve_agent_runs_through_the_plane(
    flytekit_venv: Path, tmp_path: Path
) -> None:
    """The agent a user wrote and serves with `pyflyte serve agent`; the plane's configuration names only its
    address, and learns what it serves from the agent itself (ListAgents)."""
    from tests.integration.plugins.test_agent import PyflyteAgent, _free_port

    agent = PyflyteAgent(_free_port(), tmp_path / "agent")
    agent.directory.mkdir()
    agent.start()
    try:
        plugins = {
            "backends": {
                "local": {"default_environment": {"venv": str(flytekit_venv.parent)}},
                "agent": {"agents": {"counting": {"endpoint": agent.endpoint, "insecure": True}}},
            },
            "enabled": ["agent"],
        }
        plane = Sandbox(
            tmp_path / "plane", [], _env(flytekit_venv, {"FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(plugins)})
        )
        await plane.start()
        try:
            client = _client(plane, flytekit_venv, tmp_path / "project")
            client.add_package(AGENT_WORKFLOWS, "agent_workflows")
            await client.run_remote("agent_workflows/custom.py", "custom_agent_wf", "--n", "21", name="custom-1")
            answer = await _wait(client, "custom-1")
        finally:
            await plane.interrupt()
    finally:
        agent.kill()
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    from tests.e2e.test_runs_with_flytekit import _outputs

    assert _outputs(answer, "o0") == {"o0": "the agent doubled it: 42"}
    assert len(agent.creates) == 1  # the agent's task was created once
