"""Admin refuses to serve on a schema it does not expect; `flyteplane migrate` brings one up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from admin.db import MIGRATIONS
from admin.server import start_admin
from flyteplane.database import Database
from flyteplane.errors import FailedPrecondition
from launcher.config import FlyteplaneConfig, load_config
from launcher.main import main as cli


def _config(database_url: str, tmp_path: Path) -> FlyteplaneConfig:
    config = load_config(env={})
    return config.model_copy(
        update={
            "data_dir": tmp_path,
            "admin": config.admin.model_copy(update={"grpc_port": 0, "http_port": 0, "database_url": database_url}),
            "storage": config.storage.model_copy(update={"local_root": tmp_path / "store"}),
        }
    )


async def test_admin_refuses_an_unmigrated_database_and_says_what_to_run(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="flyteplane migrate"):
        await start_admin(_config(database_url, tmp_path))


async def test_admin_refuses_a_schema_newer_than_itself(database_url: str, tmp_path: Path) -> None:
    db = Database.connect(database_url)
    await MIGRATIONS.upgrade(db, database_url)
    async with db.session() as session:
        await session.execute(text(f"UPDATE {MIGRATIONS.version_table} SET version_num = 'f00dfeed'"))
    await db.dispose()
    with pytest.raises(FailedPrecondition, match="newer than this flyteplane"):
        await start_admin(_config(database_url, tmp_path))


def test_the_migrate_command_creates_the_schema_and_is_idempotent(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLYTEPLANE_ADMIN__DATABASE_URL", database_url)
    monkeypatch.setenv("FLYTEPLANE_DATA_DIR", str(tmp_path))
    assert cli(["migrate", "admin"]) == 0
    assert cli(["migrate", "admin"]) == 0
    assert f"admin schema at {MIGRATIONS.head()}" in capsys.readouterr().out
