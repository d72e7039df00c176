"""People log in at admin's own authorization server (`admin.auth.people: built-in`) with flytekit, Dex saying
who they are.

`flyteplane start --auth` with Dex as the identity provider behind admin's built-in server: flytekit, configured
only with `authType: DeviceFlow` or `authType: Pkce`, finds admin's own endpoints in AuthMetadataService; the person
logs in in a real browser (headless Chromium; screenshots in test-artifacts/auth-built-in), where admin sends
them to Dex and back, and gets admin's token and refresh token. Access tokens live 8 s here, so flytekit's
refresh (and the service client's renewal) is exercised; the runs name the person.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_people_login_with_flytekit import (
    DEVICE_PROMPT,
    LOGIN,
    PROBE,
    _client_env,
    _person_config,
    _project,
    _pyflyte_run,
    _wait_as_service,
    run_logging_in,
)
from tests.e2e.test_sandbox import Sandbox, _env
from tests.support.dex import USER_EMAIL, running_dex
from tests.support.paths import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "auth-built-in"
ACCESS_TOKEN_SECONDS = 8
PAUSE = ACCESS_TOKEN_SECONDS + 2  # past the first token's expiry (no leeway here)


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, dex_binary: Path
) -> AsyncIterator[tuple[Sandbox, str]]:
    """One plane whose built-in server logs people in through Dex, and admin's HTTP address."""
    directory = tmp_path_factory.mktemp("built-in-login")
    env = _env(flytekit_venv)
    base = f"http://127.0.0.1:{env['FLYTEPLANE_ADMIN__HTTP_PORT']}"
    async with running_dex(dex_binary, directory / "dex", [f"{base}/oauth2/callback"]) as dex:
        env.update(
            {
                "FLYTEPLANE_ADMIN__AUTH__EXTERNAL": json.dumps({"issuer": dex.issuer}),
                "FLYTEPLANE_ADMIN__AUTH__PEOPLE": "built-in",
                "FLYTEPLANE_ADMIN__AUTH__DEVICE_POLL_SECONDS": "1",
                "FLYTEPLANE_ADMIN__AUTH__ACCESS_TOKEN_SECONDS": str(ACCESS_TOKEN_SECONDS),
                "FLYTEPLANE_ADMIN__AUTH__LEEWAY_SECONDS": "0",
            }
        )
        sandbox = Sandbox(directory / "plane", ["--auth", "--no-agent-server"], env)
        await sandbox.start()
        try:
            yield sandbox, base
        finally:
            if sandbox.process is not None and sandbox.process.returncode is None:
                await sandbox.interrupt()


async def test_a_person_logs_in_at_admin_with_the_device_flow_and_the_run_names_them(
    plane: tuple[Sandbox, str], flytekit_venv: Path, tmp_path: Path
) -> None:
    sandbox, base = plane
    project = _project(tmp_path)
    config = _person_config(sandbox, tmp_path, "DeviceFlow")
    shots = ARTIFACTS / "device-flow"
    output = await _pyflyte_run(flytekit_venv, config, project, "builtin-device", _client_env(flytekit_venv), shots)
    assert f"{DEVICE_PROMPT} {base}/oauth2/device?user_code=" in output  # admin's page, not the provider's
    answer = await _wait_as_service(sandbox, flytekit_venv, project, "builtin-device")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert answer["principal"] == USER_EMAIL
    assert (shots / "done.png").exists()


async def test_a_person_logs_in_at_admin_with_pkce_and_the_run_names_them(
    plane: tuple[Sandbox, str], flytekit_venv: Path, tmp_path: Path
) -> None:
    sandbox, _ = plane
    project = _project(tmp_path)
    config = _person_config(sandbox, tmp_path, "Pkce")
    shots = ARTIFACTS / "pkce"
    env = _client_env(flytekit_venv, BROWSER=str(_browser(tmp_path, shots)))
    await _pyflyte_run(flytekit_venv, config, project, "builtin-pkce", env, shots)
    answer = await _wait_as_service(sandbox, flytekit_venv, project, "builtin-pkce")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert answer["principal"] == USER_EMAIL
    assert (shots / "done.png").exists()


def _browser(directory: Path, shots: Path) -> Path:
    """The `BROWSER` flytekit opens its authorization URL with: the person logs in (each time noted in a file)."""
    browser = directory / "browser"
    opened = directory / "browser-opened"
    script = f'echo "$1" >> "{opened}"\nexec "{sys.executable}" "{LOGIN}" --detach "$1" "{shots}"\n'
    browser.write_text("#!/bin/sh\n" + script)
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    return browser


@pytest.mark.parametrize("auth_type", ["DeviceFlow", "Pkce"])
async def test_flytekit_renews_an_expired_token_with_its_refresh_token_without_a_new_login(
    plane: tuple[Sandbox, str], flytekit_venv: Path, tmp_path: Path, auth_type: str
) -> None:
    sandbox, base = plane
    config = _person_config(sandbox, tmp_path, auth_type)
    params = json.dumps({"action": "list_projects_twice", "pause": PAUSE})
    command = [str(flytekit_venv / "python"), str(PROBE), str(config), "flytesnacks", "development", params]
    shots = ARTIFACTS / f"refresh-{auth_type}"
    env = _client_env(flytekit_venv, BROWSER=str(_browser(tmp_path, shots)))
    output = await run_logging_in(command, tmp_path, env, shots)
    opened = (tmp_path / "browser-opened").read_text().splitlines() if auth_type == "Pkce" else []
    # One login (a device-flow link, or the browser opened at admin's authorize endpoint); the second call renewed
    # the expired token with the refresh token.
    assert output.count(DEVICE_PROMPT) + len(opened) == 1, output
    assert all(url.startswith(f"{base}/oauth2/authorize?") for url in opened)
    assert json.loads(output.strip().splitlines()[-1])["projects"][1] >= 1
