"""Alembic environment for the scheduler's schema: runs on the connection flyteplane.database hands over."""

from __future__ import annotations

from flyteplane.database import run_migration_environment
from scheduler.models import SchedulerBase

run_migration_environment(SchedulerBase.metadata)
