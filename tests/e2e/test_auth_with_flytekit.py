"""Auth as a user meets it: `flyteplane start --auth`, real flytekit with `authType: ClientSecret`.

The plane is the command a user types; flytekit (its own virtualenv) finds the token endpoint through
AuthMetadataService after admin's first UNAUTHENTICATED answer, gets a token with client credentials and
sends it with every call — nothing of flytekit is configured beyond what a Flyte user writes.
"""

from __future__ import annotations

import asyncio
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_sandbox import Sandbox, _client, _env, _wait
from tests.support.flytekit import Flytekit, FlytekitFailed

WORKFLOW = (
    "from flytekit import task, workflow\n\n"
    "@task\ndef shout(word: str) -> str:\n    return word.upper() + '!'\n\n"
    "@workflow\ndef my_wf(word: str = 'hey') -> str:\n    return shout(word=word)\n"
)
PROBE = Path(__file__).with_name("flyteremote_probe.py")
USER_PROBE = Path(__file__).with_name("user_code_probe.py")
USER_CODE = Path(__file__).with_name("user_code")


@pytest.fixture
async def sandbox(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[Sandbox]:
    plane = Sandbox(tmp_path / "plane", ["--auth"], _env(flytekit_venv))
    await plane.start()
    yield plane
    if plane.process is not None and plane.process.returncode is None:
        await plane.interrupt()


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "mine"
    project.mkdir(exist_ok=True)
    (project / "mine.py").write_text(WORKFLOW)
    return project


async def _flyteplane(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("flyteplane")),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_printed_config_runs_a_workflow_with_a_token_and_the_execution_names_its_client(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    assert "auth is on" in sandbox.output
    admin = yaml.safe_load(sandbox.client_config.read_text())["admin"]
    assert (admin["authType"], admin["clientId"]) == ("ClientSecret", "flyteplane-default")
    secret_file = Path(admin["clientSecretLocation"])
    mode = stat.S_IMODE((await asyncio.to_thread(secret_file.stat)).st_mode)
    assert mode == 0o600  # the secret is its owner's alone
    client = _client(sandbox, flytekit_venv, _project(tmp_path))
    await client.run_remote("mine.py", "my_wf", "--word", "flyte", name="authed-1")
    answer = await _wait(client, "authed-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    from tests.e2e.test_runs_with_flytekit import _outputs

    assert _outputs(answer, "o0") == {"o0": "FLYTE!"}
    assert answer["principal"] == "flyteplane-default"  # the token's subject, not flytekit's "placeholder"
    # Started again, the plane keeps the client and its secret: the same config still works.
    assert await sandbox.interrupt() == 0
    await sandbox.start()
    assert Path(yaml.safe_load(sandbox.client_config.read_text())["admin"]["clientSecretLocation"]) == secret_file
    again = await _wait(client, "authed-1")
    assert again["phase"] == core.WorkflowExecution.SUCCEEDED


async def test_a_client_made_with_the_cli_works_and_a_wrong_secret_fails_fast_naming_the_cause(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    status, secret, _ = await _flyteplane("auth", "clients", "create", "ci-bot", "--data-dir", str(sandbox.data_dir))
    assert status == 0
    status, listing, _ = await _flyteplane("auth", "clients", "list", "--data-dir", str(sandbox.data_dir))
    assert "ci-bot" in listing
    assert secret.strip() not in listing
    project = _project(tmp_path)
    config = yaml.safe_load(sandbox.client_config.read_text())
    (tmp_path / "ci-secret").write_text(secret.strip())
    config["admin"].update({"clientId": "ci-bot", "clientSecretLocation": str(tmp_path / "ci-secret")})
    (tmp_path / "ci.yaml").write_text(yaml.safe_dump(config))
    ci = Flytekit(flytekit_venv, tmp_path / "ci.yaml", project)
    await ci.run_remote("mine.py", "my_wf", name="by-ci")
    answer = await _wait(ci, "by-ci")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert answer["principal"] == "ci-bot"

    (tmp_path / "wrong-secret").write_text("not-the-secret")
    config["admin"]["clientSecretLocation"] = str(tmp_path / "wrong-secret")
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump(config))
    wrong = Flytekit(flytekit_venv, tmp_path / "wrong.yaml", project)
    with pytest.raises(FlytekitFailed) as refused:
        await wrong.remote(PROBE, {"action": "wait_for", "execution_name": "by-ci"}, time_limit=60)
    assert "invalid_client" in str(refused.value)

    # Deleted, the client gets no more tokens.
    status, _, _ = await _flyteplane("auth", "clients", "delete", "ci-bot", "--data-dir", str(sandbox.data_dir))
    assert status == 0
    fresh = Flytekit(flytekit_venv, tmp_path / "ci.yaml", project)
    with pytest.raises(FlytekitFailed, match="invalid_client"):
        await fresh.remote(PROBE, {"action": "wait_for", "execution_name": "by-ci"}, time_limit=60)


async def test_an_eager_workflow_calls_back_into_the_plane_with_its_own_token(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    """The eager task runs FlyteRemote inside itself; with auth on, the plane hands it a token acting as the
    execution's principal (flytekit's authType ExternalCommand), so its launches pass the guard."""
    client = _client(sandbox, flytekit_venv, tmp_path / "project")
    client.add_package(USER_CODE, "user_code")
    await client.run_remote("user_code/eager_flow.py", "eager_sum", "--x", "1", name="eager-authed")
    answer = await _wait(client, "eager-authed")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    from tests.e2e.test_runs_with_flytekit import _outputs

    assert _outputs(answer, "o0") == {"o0": (1 + 1) * (1 + 10 + 1)}
    children = (await client.remote(USER_PROBE, {"action": "eager_children", "name": "eager-authed"}))["children"]
    assert len(children) == 3
    assert {child["principal"] for child in children} == {"flyteplane-default"}  # who launched the eager run
    assert {child["phase"] for child in children} == {core.WorkflowExecution.SUCCEEDED}


async def test_serving_beyond_loopback_without_auth_is_refused_unless_insecure_is_said(
    tmp_path: Path, flytekit_venv: Path
) -> None:
    env = _env(flytekit_venv, {"FLYTEPLANE_ADMIN__HOST": "0.0.0.0"})
    refused = Sandbox(tmp_path / "refused", [], env)
    with pytest.raises(RuntimeError, match=r"admin would listen on 0\.0\.0\.0 with auth off") as error:
        await refused.start()
    assert "--insecure" in str(error.value)
    assert refused.process is not None and await refused.process.wait() == 2
    said = Sandbox(tmp_path / "said", ["--insecure"], env)
    await said.start()
    try:
        assert "auth is OFF on 0.0.0.0 (--insecure)" in said.output
    finally:
        assert await said.interrupt() == 0


async def test_on_loopback_the_plane_says_auth_is_off(tmp_path: Path, flytekit_venv: Path) -> None:
    plane = Sandbox(tmp_path / "plane", [], _env(flytekit_venv))
    await plane.start()
    try:
        assert "auth is off: anyone on this machine can use the plane" in plane.output
        assert "authType" not in plane.client_config.read_text()
    finally:
        await plane.interrupt()
