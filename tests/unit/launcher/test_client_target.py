"""Where the client commands find admin (flytekit's config file, flags) and which execution a reference names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from launcher.client.target import ClientError, ExecutionRef, Target, console_url, parse_execution, resolve_target


def _config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_config_flag_names_admin_and_its_console(tmp_path: Path) -> None:
    config = _config(
        tmp_path / "c.yaml",
        "admin:\n  endpoint: dns:///localhost:30080\n  insecure: true\nconsole:\n  endpoint: http://localhost:30081/\n",
    )
    assert resolve_target(config, None, None) == Target("localhost:30080", True, "http://localhost:30081")


def test_flytectl_config_then_the_home_default_are_used_without_a_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".flyte").mkdir()
    _config(tmp_path / ".flyte" / "config.yaml", "admin:\n  endpoint: dns:///home.example:443\n")
    monkeypatch.delenv("FLYTECTL_CONFIG", raising=False)
    # Without console.endpoint the HTTP base is admin's host with the next port (flyteplane's layout).
    assert resolve_target(None, None, None) == Target("home.example:443", False, "https://home.example:444")
    env = _config(tmp_path / "env.yaml", "admin:\n  endpoint: dns:///env.example:30080\n  insecure: true\n")
    monkeypatch.setenv("FLYTECTL_CONFIG", str(env))
    assert resolve_target(None, None, None).grpc_address == "env.example:30080"


def test_flags_win_over_the_config(tmp_path: Path) -> None:
    config = _config(tmp_path / "c.yaml", "admin:\n  endpoint: dns:///a:1\nconsole:\n  endpoint: http://a:2\n")
    target = resolve_target(config, "b:30080", "http://b:9000")
    assert target == Target("b:30080", True, "http://b:9000")


@pytest.mark.parametrize(
    ("text", "endpoint", "http", "message"),
    [
        ("admin: {}\n", None, None, "has no admin.endpoint"),
        ("admin:\n  endpoint: dns:///nohost\n", None, None, "must look like host:port"),
        ("admin: [\n", None, None, "cannot read the config file"),
        ("admin: {}\n", "host:notaport", None, "--endpoint must look like"),
        ("admin: {}\n", "host:1", "ftp://x", "--http-endpoint must be an http(s) URL"),
    ],
)
def test_a_config_or_flag_that_names_no_admin_is_a_clear_error(
    tmp_path: Path, text: str, endpoint: str | None, http: str | None, message: str
) -> None:
    config = _config(tmp_path / "c.yaml", text)
    with pytest.raises(ClientError, match=re.escape(message)):
        resolve_target(config, endpoint, http)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ClientError, match="no config file at"):
        resolve_target(tmp_path / "absent.yaml", None, None)


def test_an_execution_is_a_name_or_the_console_url_flytekit_prints() -> None:
    assert parse_execution("abc123", None, None) == (ExecutionRef("flytesnacks", "development", "abc123"), None)
    assert parse_execution("abc123", "p", "d") == (ExecutionRef("p", "d", "abc123"), None)
    url = "http://localhost:30081/console/projects/p/domains/d/executions/abc123"
    assert parse_execution(url, None, None) == (ExecutionRef("p", "d", "abc123"), "http://localhost:30081")
    target = Target("localhost:30080", True, "http://localhost:30081")
    assert console_url(target, ExecutionRef("p", "d", "abc123")) == url


@pytest.mark.parametrize("reference", ["a/b", "https://x/not/console", "-rf", "x" * 64, "名前"])
def test_anything_else_is_refused_with_what_was_expected(reference: str) -> None:
    with pytest.raises(ClientError, match="execution name"):
        parse_execution(reference, None, None)


def test_a_url_and_flags_that_disagree_are_refused() -> None:
    with pytest.raises(ClientError, match="names p/d"):
        parse_execution("http://h:1/console/projects/p/domains/d/executions/e", "other", None)


def test_the_entry_point_knows_every_client_command() -> None:
    from launcher.client.commands import COMMANDS
    from launcher.entry import CLIENT_COMMANDS

    assert set(COMMANDS) == CLIENT_COMMANDS
