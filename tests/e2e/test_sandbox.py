"""`flyteplane start` as a user meets it: one command, a printed config, real flytekit, Ctrl-C and resume.

The plane runs as its own process (the command a user types); flytekit talks to it only through the
config file it printed. Also on production parts: PostgreSQL and an S3-compatible server (moto).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from flyteidl_py.core import execution_pb2 as core
from tests.integration.flyteplane.storage.conftest import _start_server, _stop
from tests.support.flytekit import Flytekit
from tests.support.postgres import create_database, free_port

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("flyteremote_probe.py")
ENGINE_CASES = Path(__file__).with_name("engine_cases")
S3_KEY, S3_SECRET = "sandbox-key", "sandbox-secret"


@dataclass
class Sandbox:
    data_dir: Path
    args: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    output: str = ""

    async def start(self) -> None:
        exe = Path(sys.executable).with_name("flyteplane")
        self.process = await asyncio.create_subprocess_exec(
            str(exe),
            "start",
            "--data-dir",
            str(self.data_dir),
            "--no-task-env",
            *self.args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        lines = []
        while True:
            line = (await asyncio.wait_for(self.process.stdout.readline(), 120)).decode()
            if not line:
                raise RuntimeError("flyteplane start exited:\n" + "".join(lines))
            lines.append(line)
            if line.startswith("Stop with Ctrl-C"):
                break
        self.output = "".join(lines)
        asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while await self.process.stdout.readline():
            pass

    async def interrupt(self) -> int:
        """Ctrl-C, as a user stops it; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return await asyncio.wait_for(self.process.wait(), 60)

    @property
    def client_config(self) -> Path:
        return self.data_dir / "config.yaml"


def _env(flytekit_venv: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLYTEPLANE_ADMIN__GRPC_PORT": str(free_port()),
            "FLYTEPLANE_ADMIN__HTTP_PORT": str(free_port()),
            "FLYTEPLANE_PROPELLER__GRPC_PORT": str(free_port()),
            "FLYTEPLANE_DATACATALOG__GRPC_PORT": str(free_port()),
            "FLYTEPLANE_PROPELLER__RESYNC_SECONDS": "1",
            "FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(
                {"backends": {"local": {"default_environment": {"venv": str(flytekit_venv.parent)}}}}
            ),
        }
    )
    env.update(extra or {})
    return env


def _client(sandbox: Sandbox, flytekit_venv: Path, project: Path) -> Flytekit:
    client = Flytekit(flytekit_venv, sandbox.client_config, project)
    project.mkdir(parents=True, exist_ok=True)
    return client


@pytest.fixture
async def sandbox(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[Sandbox]:
    plane = Sandbox(tmp_path / "plane", [], _env(flytekit_venv))
    await plane.start()
    yield plane
    if plane.process is not None and plane.process.returncode is None:
        await plane.interrupt()


async def _wait(client: Flytekit, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = await client.remote(PROBE, {"action": "wait_for", "execution_name": name}, time_limit=240)
    return answer


async def test_a_users_own_workflow_runs_with_the_printed_config(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    assert f"pyflyte --config {sandbox.client_config} run --remote" in sandbox.output
    project = tmp_path / "mine"
    project.mkdir()
    (project / "mine.py").write_text(
        "from flytekit import task, workflow\n\n"
        "@task\ndef shout(word: str) -> str:\n    return word.upper() + '!'\n\n"
        "@workflow\ndef my_wf(word: str = 'hey') -> str:\n    return shout(word=word)\n"
    )
    client = _client(sandbox, flytekit_venv, project)
    await client.run_remote("mine.py", "my_wf", "--word", "flyte", name="mine-1")
    answer = await _wait(client, "mine-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    from tests.e2e.test_runs_with_flytekit import _outputs

    assert _outputs(answer, "o0") == {"o0": "FLYTE!"}


async def test_an_execution_interrupted_by_ctrl_c_finishes_after_starting_again(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    client = _client(sandbox, flytekit_venv, tmp_path / "project")
    client.add_package(ENGINE_CASES, "engine_cases")
    await client.run_remote("engine_cases/behaviours.py", "long_wf", "--seconds", "6", name="survivor")
    await asyncio.sleep(3)  # the task process is running now
    assert await sandbox.interrupt() == 0
    await sandbox.start()
    answer = await _wait(client, "survivor")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")


@pytest.fixture
async def moto(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = _start_server(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        f"{endpoint}/moto-api/",
        tmp_path_factory.mktemp("moto") / "log",
    )
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
    ).create_bucket(Bucket="plane")
    yield endpoint
    _stop(process)


async def test_the_same_command_runs_on_postgresql_and_s3(
    tmp_path: Path, flytekit_venv: Path, postgres_base_url: str, moto: str
) -> None:
    database = create_database(postgres_base_url, "sandbox")
    env = _env(
        flytekit_venv,
        {"FLYTEPLANE_STORAGE__S3__ACCESS_KEY_ID": S3_KEY, "FLYTEPLANE_STORAGE__S3__SECRET_ACCESS_KEY": S3_SECRET},
    )
    plane = Sandbox(tmp_path / "plane", ["--database", database, "--storage", "s3://plane", "--s3-endpoint", moto], env)
    await plane.start()
    try:
        client = _client(plane, flytekit_venv, tmp_path / "project")
        (tmp_path / "project" / "hello.py").write_text((ROOT / "examples" / "hello.py").read_text())
        await client.run_remote("hello.py", "hello_wf", "--name", "s3", name="on-s3")
        answer = await _wait(client, "on-s3")
        assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
        from tests.e2e.test_runs_with_flytekit import _outputs

        assert _outputs(answer, "o0", "o1") == {"o0": "HELLO S3 HELLO S3!", "o1": 17}
        objects = boto3.client(
            "s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
        ).list_objects_v2(Bucket="plane")
        assert any(o["Key"].startswith("metadata/") for o in objects.get("Contents", []))
    finally:
        await plane.interrupt()
