"""What every manager works with: the database, the artifact data store, the configuration and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from datacatalog.config import DataCatalogConfig
from datacatalog.data_store import ArtifactDataStore
from flyteplane.database import Database, utcnow


@dataclass(frozen=True)
class CatalogContext:
    db: Database
    store: ArtifactDataStore
    config: DataCatalogConfig
    clock: Callable[[], datetime] = field(default=utcnow)  # reservations' notion of now; tests move it


class CatalogManager:
    """What each manager (one per group of RPCs) starts from: the context it works in."""

    def __init__(self, ctx: CatalogContext) -> None:
        self.ctx = ctx
