"""Propeller's database: its migrations and the schema check the engine runs before it serves."""

from __future__ import annotations

from pathlib import Path

from flyteplane.database import Migrations

MIGRATIONS = Migrations(Path(__file__).with_name("migrations"), version_table="propeller_alembic_version")
