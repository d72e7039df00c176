"""People log in as Flyte users do: flytekit's device flow and PKCE against an OpenID Connect provider.

`flyteplane start --auth` with `admin.auth.external` naming Dex (a real provider, built from the Go module
proxy, tests/support/dex.py). flytekit is configured only with `authType: DeviceFlow` or `authType: Pkce`;
it learns the provider's endpoints and the public client from AuthMetadataService, and the person logs in at
the provider in a real browser (Debian's chromium, headless; screenshots in test-artifacts/auth). The run's
execution names the person.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_sandbox import Sandbox, _env
from tests.support.dex import USER_EMAIL, running_dex
from tests.support.flytekit import Flytekit
from tests.support.paths import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "auth"
LOGIN = Path(__file__).with_name("idp_login.py")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
WORKFLOW = (
    "from flytekit import task, workflow\n\n"
    "@task\ndef double(x: int) -> int:\n    return 2 * x\n\n"
    "@workflow\ndef wf(x: int = 21) -> int:\n    return double(x=x)\n"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEVICE_PROMPT = "navigate in a browser to the following URL:"


@pytest.fixture(scope="module")
async def sandbox(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, dex_binary: Path
) -> AsyncIterator[Sandbox]:
    """One plane (and one Dex) for the module: each test logs in afresh (no keyring), under its own run name."""
    directory = tmp_path_factory.mktemp("people-login")
    async with running_dex(dex_binary, directory / "dex") as dex:
        external = json.dumps({"issuer": dex.issuer})
        env = _env(flytekit_venv, {"FLYTEPLANE_ADMIN__AUTH__EXTERNAL": external})
        plane = Sandbox(directory / "plane", ["--auth"], env)
        await plane.start()
        yield plane
        if plane.process is not None and plane.process.returncode is None:
            await plane.interrupt()


def _person_config(sandbox: Sandbox, directory: Path, auth_type: str) -> Path:
    """The config a person writes: the plane's address and how to log in, nothing else."""
    admin = yaml.safe_load(sandbox.client_config.read_text())["admin"]
    config = {"admin": {"endpoint": admin["endpoint"], "insecure": True, "authType": auth_type}}
    path = directory / f"{auth_type}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _project(directory: Path) -> Path:
    project = directory / "mine"
    project.mkdir(exist_ok=True)
    (project / "mine.py").write_text(WORKFLOW)
    return project


def _client_env(flytekit_venv: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYTE", "_F_", "PYTHON"))}
    env.update({"PATH": f"{flytekit_venv}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1", **extra})
    # No keyring here: every run logs in afresh (flytekit then keeps the tokens in memory only).
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


async def _pyflyte_run(
    flytekit_venv: Path, config: Path, project: Path, name: str, env: dict[str, str], shots: Path
) -> str:
    """`pyflyte run --remote`; when flytekit prints a device-flow link, the person opens it and logs in."""
    command = [str(flytekit_venv / "pyflyte"), "--config", str(config), "run", "--remote", "--name", name]
    return await run_logging_in([*command, "mine.py", "wf"], project, env, shots)


async def run_logging_in(command: list[str], cwd: Path, env: dict[str, str], shots: Path) -> str:
    """Run a flytekit command to its end; each time it prints a device-flow link, the person opens it and logs in.
    Its output."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    output: list[str] = []
    logins: list[asyncio.subprocess.Process] = []
    try:
        async with asyncio.timeout(240):
            while line := await process.stdout.readline():
                text = ANSI.sub("", line.decode(errors="replace"))
                output.append(text)
                if DEVICE_PROMPT in text:
                    url = text.split(DEVICE_PROMPT, 1)[1].strip()
                    logins.append(await asyncio.create_subprocess_exec(sys.executable, str(LOGIN), url, str(shots)))
            await process.wait()
            for login in logins:
                assert await login.wait() == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, "".join(output[-60:])
    return "".join(output)


async def _wait_as_service(sandbox: Sandbox, flytekit_venv: Path, project: Path, name: str) -> dict[str, object]:
    """Wait for the run with the plane's own service client (the config `start --auth` wrote)."""
    client = Flytekit(flytekit_venv, sandbox.client_config, project)
    answer: dict[str, object] = await client.remote(
        PROBE, {"action": "wait_for", "execution_name": name}, time_limit=240
    )
    return answer


async def test_a_person_logs_in_with_the_device_flow_and_the_run_names_them(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    config = _person_config(sandbox, tmp_path, "DeviceFlow")
    shots = ARTIFACTS / "device-flow"
    output = await _pyflyte_run(flytekit_venv, config, project, "device-1", _client_env(flytekit_venv), shots)
    assert DEVICE_PROMPT in output  # flytekit asked the person to log in
    answer = await _wait_as_service(sandbox, flytekit_venv, project, "device-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert answer["principal"] == USER_EMAIL
    assert (shots / "done.png").exists()


async def test_a_person_logs_in_through_the_browser_with_pkce_and_the_run_names_them(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    config = _person_config(sandbox, tmp_path, "Pkce")
    shots = ARTIFACTS / "pkce"
    # flytekit opens "the browser" with Python's webbrowser, which runs $BROWSER with the authorization URL.
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{LOGIN}" --detach "$1" "{shots}"\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    env = _client_env(flytekit_venv, BROWSER=str(browser))
    await _pyflyte_run(flytekit_venv, config, project, "pkce-1", env, shots)
    answer = await _wait_as_service(sandbox, flytekit_venv, project, "pkce-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert answer["principal"] == USER_EMAIL
    assert (shots / "done.png").exists()
