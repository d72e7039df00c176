"""The secrets store: sealed at rest, scoped by project and domain, resolved for task requests, driven by the CLI."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from flyteidl_py.core import security_pb2
from flyteplane.database import Database
from flyteplane.errors import InvalidArgument
from launcher.main import main as cli
from plugins.core import SecretNotFound, SecretUnavailable
from propeller.db import MIGRATIONS
from propeller.secrets import SecretsStore, secrets_key

KEY = bytes(range(32))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.connect(database_url)
    await MIGRATIONS.upgrade(database, database_url)
    yield database
    await database.dispose()


def _request(group: str, key: str, version: str = "") -> security_pb2.Secret:
    return security_pb2.Secret(group=group, key=key, group_version=version)


async def test_a_domains_own_secret_wins_over_the_projects(db: Database) -> None:
    store = SecretsStore(db, KEY)
    await store.put("p", "", "db/password", b"project-wide")
    await store.put("p", "production", "db/password", b"production-only")
    [dev] = await store.resolve("p", "development", [_request("db", "password")])
    [prod] = await store.resolve("p", "production", [_request("db", "password")])
    assert (dev.value, prod.value) == (b"project-wide", b"production-only")
    assert "project-wide" not in repr(dev)


async def test_putting_again_replaces_the_value(db: Database) -> None:
    store = SecretsStore(db, KEY)
    assert await store.put("p", "", "g/k", b"one") is True
    assert await store.put("p", "", "g/k", b"two") is False
    assert [v.value for v in await store.resolve("p", "d", [_request("g", "k")])] == [b"two"]


async def test_values_are_sealed_at_rest_and_do_not_open_under_another_key(db: Database) -> None:
    await SecretsStore(db, KEY).put("p", "", "g/k", b"plain-value-123")
    async with db.session() as session:
        [stored] = (await session.execute(text("SELECT value FROM secrets"))).scalars().all()
    assert b"plain-value-123" not in bytes(stored)
    with pytest.raises(SecretUnavailable, match="does not open") as failure:
        await SecretsStore(db, bytes(32)).resolve("p", "d", [_request("g", "k")])
    error = failure.value.transition().error
    assert error is not None and error.kind == error.SYSTEM


async def test_missing_secrets_are_all_named_with_group_and_key(db: Database) -> None:
    store = SecretsStore(db, KEY)
    await store.put("p", "", "g/present", b"v")
    await store.put("other", "", "g/absent", b"v")  # another project's secret is not this one's
    with pytest.raises(SecretNotFound) as failure:
        await store.resolve("p", "d", [_request("g", "present"), _request("g", "absent"), _request("h", "k", "v2")])
    message = str(failure.value)
    assert "group='g' key='absent'" in message and "group='h' key='k' group_version='v2'" in message
    assert "present" not in message.replace("project", "")
    assert failure.value.transition().error is not None
    assert failure.value.transition().error.kind == failure.value.transition().error.USER


async def test_group_version_is_part_of_the_name(db: Database) -> None:
    store = SecretsStore(db, KEY)
    await store.put("p", "", "g/v1/k", b"versioned")
    [value] = await store.resolve("p", "d", [_request("g", "k", "v1")])
    assert value.value == b"versioned"


async def test_listing_and_deleting(db: Database) -> None:
    store = SecretsStore(db, KEY)
    await store.put("p", "", "a/k", b"1")
    await store.put("p", "dev", "b/k", b"2")
    await store.put("p", "prod", "c/k", b"3")
    assert [(s.domain, s.name) for s in await store.stored("p", "dev")] == [("", "a/k"), ("dev", "b/k")]
    assert len(await store.stored("p")) == 3
    assert await store.delete("p", "dev", "b/k") is True
    assert await store.delete("p", "dev", "b/k") is False
    assert [s.name for s in await store.stored("p")] == ["a/k", "c/k"]


@pytest.mark.parametrize("name", ["", "a//b", "../x", "a/b/c/d", "with space", "g/k\n"])
async def test_names_that_are_not_group_and_key_are_refused(db: Database, name: str) -> None:
    with pytest.raises(InvalidArgument):
        await SecretsStore(db, KEY).put("p", "", name, b"v")


def test_the_key_is_kept_in_the_data_directory_readable_by_its_owner_only(tmp_path: Path) -> None:
    key = secrets_key(None, tmp_path)
    assert len(key) == 32 and secrets_key(None, tmp_path) == key
    assert os.stat(tmp_path / "secrets-key").st_mode & 0o777 == 0o600
    assert secrets_key("ab" * 32, tmp_path) == bytes([0xAB]) * 32
    with pytest.raises(InvalidArgument, match="64 hex digits"):
        secrets_key("short", tmp_path)


def test_the_cli_creates_lists_and_deletes_without_printing_values(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value_file = tmp_path / "value"
    value_file.write_bytes(b"cli-value-987")
    common = ["--data-dir", str(tmp_path), "--database", database_url, "--project", "p"]
    assert cli(["secrets", "create", *common, "--from-file", str(value_file), "db/password"]) == 0
    assert cli(["secrets", "create", *common, "--domain", "dev", "--from-file", str(value_file), "db/password"]) == 0
    assert cli(["secrets", "list", *common, "--domain", "dev"]) == 0
    assert cli(["secrets", "delete", *common, "db/password"]) == 0
    assert cli(["secrets", "list", *common]) == 0
    out = capsys.readouterr().out
    assert "cli-value-987" not in out
    listings = out.split("NAME\tSCOPE\tUPDATED\n")
    assert [line.split("\t")[:2] for line in listings[1].splitlines()[:2]] == [
        ["db/password", "p/*"],
        ["db/password", "p/dev"],
    ]
    assert [line.split("\t")[:2] for line in listings[2].strip().splitlines()] == [["db/password", "p/dev"]]
    assert cli(["secrets", "delete", *common, "db/password"]) != 0
