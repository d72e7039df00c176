"""Propeller's section of the configuration (`propeller:`, with the plugins' `propeller.plugins`), and the part
of the whole schema the engine reads."""

from __future__ import annotations

from pydantic import Field

from flyteplane.config import PlaneConfig, Section
from plugins.config import PluginsConfig


class PropellerConfig(Section):
    """FlytePropeller: the engine API's address, its own database, and how it runs executions."""

    host: str = "127.0.0.1"
    grpc_port: int = Field(default=30082, ge=0, le=65535)  # the engine API admin launches through
    database_url: str | None = None  # None: SQLite at <data_dir>/propeller.db
    admin_endpoint: str = "127.0.0.1:30080"  # where events, signals and child executions go
    # DataCatalog for task caching; None turns caching off (every cacheable task reports CACHE_DISABLED).
    datacatalog_endpoint: str | None = None
    cache_reservation_heartbeat_seconds: float = Field(default=5.0, gt=0)
    workers: int = Field(default=16, ge=1)
    lease_seconds: float = Field(default=30.0, gt=0)
    resync_seconds: float = Field(default=5.0, gt=0)
    max_system_failures: int = Field(default=3, ge=0)
    metadata_prefix: str = "metadata/propeller"  # <store>/<this>/<project>-<domain>-<execution>/...
    raw_output_prefix: str | None = None  # None: <store>/raw
    owner_id: str | None = None  # lease holder name; None: host-pid-random
    metrics_port: int = Field(default=0, ge=0, le=65535)  # Prometheus GET /metrics on this port; 0: off
    # Which plugin serves each task type, per project/domain, and the backends' settings.
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)


class PropellerPlaneConfig(PlaneConfig):
    """What propeller reads of the whole configuration: the shared settings and its own section."""

    propeller: PropellerConfig = Field(default_factory=PropellerConfig)
