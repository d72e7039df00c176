"""The agent server's supervisor: started again when it exits, ever less often when it cannot start at all."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from launcher.agent_server import AgentServer, serves_agents


def _venv(tmp_path: Path, python: str) -> Path:
    """A stand-in task environment whose `python` is `python` (a real executable)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(python, venv / "bin" / "python")
    return venv


async def test_a_server_that_cannot_start_is_retried_with_a_growing_pause(tmp_path: Path) -> None:
    server = AgentServer(_venv(tmp_path, "/bin/false"), 45999, tmp_path / "agent.log", restart_delay_seconds=0.1)
    await server.start()
    await asyncio.sleep(2.0)
    await server.stop()
    # Pauses of 0.2, 0.4, 0.8, 1.6 s: at most 4 starts in 2 s where a fixed 0.1 s pause makes about 20.
    assert 2 <= server.starts <= 4


async def test_stop_ends_a_running_server_and_its_supervisor(tmp_path: Path) -> None:
    script = tmp_path / "serve"
    script.write_text("#!/bin/sh\nexec sleep 60\n")  # a server that keeps running until it is stopped
    script.chmod(0o755)
    server = AgentServer(_venv(tmp_path, str(script)), 45998, tmp_path / "agent.log")
    await server.start()
    await asyncio.sleep(0.3)
    assert server.process is not None and server.process.returncode is None
    await server.stop()
    assert server.process.returncode is not None
    await asyncio.sleep(0.3)
    assert server.starts == 1  # stopped, not restarted


async def test_the_server_runs_with_the_plane_environment_and_its_own_variables_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "serve"
    script.write_text(f"#!/bin/sh\nenv > {tmp_path / 'env'}\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "inherited-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    environment = {"AWS_ENDPOINT_URL": "http://127.0.0.1:41100", "AWS_DEFAULT_REGION": "us-east-1"}
    server = AgentServer(_venv(tmp_path, str(script)), 45997, tmp_path / "agent.log", environment=environment)
    await server.start()
    try:
        for _ in range(50):
            if (tmp_path / "env").exists() and (tmp_path / "env").read_text().endswith("\n"):
                break
            await asyncio.sleep(0.1)
        seen = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines() if "=" in line)
    finally:
        await server.stop()
    assert seen["AWS_ACCESS_KEY_ID"] == "inherited-key"  # credentials in the plane's environment reach agents
    assert seen["AWS_ENDPOINT_URL"] == "http://127.0.0.1:41100"
    assert seen["AWS_DEFAULT_REGION"] == "us-east-1"  # the task environment's `env` wins


def test_only_an_environment_with_pyflyte_serves_agents(tmp_path: Path) -> None:
    assert not serves_agents(tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pyflyte").touch()
    assert serves_agents(tmp_path)
