"""DataCatalog's database: its migrations and the schema check the server runs before it serves."""

from __future__ import annotations

from pathlib import Path

from flyteplane.database import Migrations

MIGRATIONS = Migrations(Path(__file__).with_name("migrations"), version_table="datacatalog_alembic_version")
