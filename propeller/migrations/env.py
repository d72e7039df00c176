"""Alembic environment for propeller's schema: runs on the connection flyteplane.database hands over."""

from __future__ import annotations

from flyteplane.database import run_migration_environment
from propeller.models import PropellerBase

run_migration_environment(PropellerBase.metadata)
