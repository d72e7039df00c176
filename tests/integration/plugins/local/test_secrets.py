"""How the local plugin delivers a task's secrets: where flytekit's SecretsManager looks, and nowhere a sibling sees."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from flyteidl_py.core import security_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.config import LocalPluginConfig
from plugins.core import BadTaskDefinition, SecretNotFound, SecretValue, TaskExecutionContext
from plugins.local.command import build_command
from tests.integration.plugins.helpers import fixture_task, task_context

ENVIRON = {"PATH": "/usr/bin:/bin", "HOME": "/home/u"}
Secret = security_pb2.Secret


def _context(storage: Storage, values: dict[str, bytes], *requests: security_pb2.Secret) -> TaskExecutionContext:
    template = tasks_pb2.TaskTemplate()
    template.CopyFrom(fixture_task("examples.basics.scalars"))
    template.security_context.secrets.extend(requests)

    async def reader(asked: Sequence[security_pb2.Secret]) -> Sequence[SecretValue]:
        names = ["/".join(p for p in (r.group, r.group_version, r.key) if p) for r in asked]
        missing = [name for name in names if name not in values]
        if missing:
            raise SecretNotFound(f"missing {missing}")
        return [SecretValue(r, values[name]) for r, name in zip(asked, names, strict=True)]

    ctx = task_context(storage, template, execution="secrets")
    return dataclasses.replace(ctx, template=template, secrets_reader=reader)


async def _env(ctx: TaskExecutionContext, tmp_path: Path) -> dict[str, str]:
    command = await build_command(ctx, LocalPluginConfig(work_dir=tmp_path / "work"), tmp_path / "a", ENVIRON)
    return command.env


async def test_environment_secrets_become_fsec_variables_and_named_variables(storage: Storage, tmp_path: Path) -> None:
    ctx = _context(
        storage,
        {"db/password": b"pw", "api/v2/token": b"tk"},
        Secret(group="db", key="password", mount_requirement=Secret.ENV_VAR, env_var="DB_PASSWORD"),
        Secret(group="api", group_version="v2", key="token"),  # ANY: an environment variable, as on Kubernetes
    )
    env = await _env(ctx, tmp_path)
    assert env["FLYTE_SECRETS_ENV_PREFIX"] == "_FSEC_"
    assert (env["_FSEC_DB_PASSWORD"], env["DB_PASSWORD"], env["_FSEC_API_V2_TOKEN"]) == ("pw", "pw", "tk")


async def test_file_secrets_are_owner_only_files_under_the_secrets_directory(storage: Storage, tmp_path: Path) -> None:
    ctx = _context(
        storage,
        {"Certs/CA": b"-----BEGIN-----\n"},
        Secret(group="Certs", key="CA", mount_requirement=Secret.FILE, env_var="CA_PATH"),
    )
    env = await _env(ctx, tmp_path)
    path = Path(env["FLYTE_SECRETS_DEFAULT_DIR"]) / "certs" / "ca"
    assert path.read_bytes() == b"-----BEGIN-----\n"
    assert env["CA_PATH"] == str(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "a").st_mode & 0o777 == 0o700
    assert "_FSEC_CERTS_CA" not in env


async def test_secrets_stay_out_of_what_keys_warm_servers(storage: Storage, tmp_path: Path) -> None:
    ctx = _context(storage, {"db/password": b"pw"}, Secret(group="db", key="password"))
    command = await build_command(ctx, LocalPluginConfig(work_dir=tmp_path / "work"), tmp_path / "a", ENVIRON)
    assert "pw" not in command.import_env.values() and "pw" not in command.base_env.values()


async def test_a_missing_secret_is_a_user_error_before_anything_starts(storage: Storage, tmp_path: Path) -> None:
    ctx = _context(storage, {}, Secret(group="db", key="password"))
    with pytest.raises(SecretNotFound) as failure:
        await _env(ctx, tmp_path)
    transition = failure.value.transition()
    assert transition.error is not None and transition.error.code == "SecretNotFound"
    assert transition.error.kind == transition.error.USER


async def test_an_engine_without_a_store_refuses_tasks_that_request_secrets(storage: Storage, tmp_path: Path) -> None:
    ctx = dataclasses.replace(_context(storage, {}, Secret(group="db", key="password")), secrets_reader=None)
    with pytest.raises(SecretNotFound, match="no secrets store"):
        await _env(ctx, tmp_path)


async def test_a_request_whose_parts_are_paths_is_refused(storage: Storage, tmp_path: Path) -> None:
    ctx = _context(storage, {"../x": b"v"}, Secret(group="..", key="x", mount_requirement=Secret.FILE))
    with pytest.raises(BadTaskDefinition):
        await _env(ctx, tmp_path)


async def test_tasks_without_secret_requests_get_no_secret_settings(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, fixture_task("examples.basics.scalars"), execution="plain")
    env = await _env(ctx, tmp_path)
    assert not any(name.startswith(("FLYTE_SECRETS_", "_FSEC_")) for name in env)
