"""The scheduler's database: its migrations and the schema check it runs before it fires anything."""

from __future__ import annotations

from pathlib import Path

from flyteplane.database import Migrations

MIGRATIONS = Migrations(Path(__file__).with_name("migrations"), version_table="scheduler_alembic_version")
