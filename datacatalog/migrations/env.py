"""Alembic environment for datacatalog's schema: runs on the connection flyteplane.database hands over."""

from __future__ import annotations

from datacatalog.models import CatalogBase
from flyteplane.database import run_migration_environment

run_migration_environment(CatalogBase.metadata)
