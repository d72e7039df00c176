"""Alembic environment for admin's schema: runs on the connection flyteplane.database hands over."""

from __future__ import annotations

from admin.models import AdminBase
from flyteplane.database import run_migration_environment

run_migration_environment(AdminBase.metadata)
