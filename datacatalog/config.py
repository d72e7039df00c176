"""DataCatalog's section of the configuration (`datacatalog:`), and the part of the whole schema it reads."""

from __future__ import annotations

from pydantic import Field

from flyteplane.config import PlaneConfig, Section


class DataCatalogConfig(Section):
    """DataCatalog: where it listens, its database, where artifact data goes, and reservation timing."""

    host: str = "127.0.0.1"
    grpc_port: int = Field(default=30089, ge=0, le=65535)
    database_url: str | None = None  # None: SQLite at <data_dir>/datacatalog.db
    metrics_port: int = Field(default=0, ge=0, le=65535)  # Prometheus GET /metrics on this port; 0: off
    # Artifact data (one core.Literal per output) lives in the object store under
    # <storage default prefix>/<storage_prefix>/<project>/<domain>/<dataset name>/<version>/<artifact id>/...
    storage_prefix: str = "datacatalog"
    # A reservation's heartbeat is the caller's, capped at this; it expires after heartbeat x multiplier.
    max_reservation_heartbeat_seconds: float = Field(default=10.0, gt=0)
    heartbeat_grace_period_multiplier: float = Field(default=3.0, gt=0)


class DataCatalogPlaneConfig(PlaneConfig):
    """What DataCatalog reads of the whole configuration: the shared settings and its own section."""

    datacatalog: DataCatalogConfig = Field(default_factory=DataCatalogConfig)
