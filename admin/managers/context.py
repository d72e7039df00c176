"""What every manager shares: the database, the object store, the engine, configuration and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from admin.config import AdminConfig
from admin.engine import WorkflowEngine
from flyteplane.database import Database
from flyteplane.storage import Storage, join


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AdminContext:
    db: Database
    storage: Storage
    engine: WorkflowEngine
    config: AdminConfig
    clock: Callable[[], datetime] = field(default=_now)

    def metadata_uri(self, *parts: str) -> str:
        """<store prefix>/<metadata_prefix>/<parts...>: where admin offloads inputs and outputs."""
        return join(self.storage.default_prefix, self.config.metadata_prefix, *parts)
