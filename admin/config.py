"""Admin's section of the configuration (`admin:`), and the part of the whole schema a standalone admin reads."""

from __future__ import annotations

from pydantic import Field

from flyteplane.config import PlaneConfig, Section


class AdminConfig(Section):
    """FlyteAdmin: where it listens, its database, and the platform defaults Flyte keeps in admin's config."""

    host: str = "127.0.0.1"
    grpc_port: int = Field(default=30080, ge=0, le=65535)  # flytekit's sandbox config points here
    http_port: int = Field(default=30081, ge=0, le=65535)  # signed URLs of the local store, REST, console
    database_url: str | None = None  # None: SQLite at <data_dir>/admin.db
    domains: list[str] = Field(default_factory=lambda: ["development", "staging", "production"])
    default_projects: list[str] = Field(default_factory=lambda: ["flytesnacks"])
    max_parallelism: int = Field(default=25, ge=0)
    # Get*Data returns literal maps inline below this size; larger outputs in events are refused.
    max_inline_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    metadata_prefix: str = "metadata"  # <bucket>/<metadata_prefix>/<project>/<domain>/<execution>/...
    upload_prefix: str = "uploads"  # data proxy uploads: <bucket>/<upload_prefix>/<project>/<domain>/...
    max_upload_expiry_seconds: int = Field(default=3600, gt=0)
    max_download_expiry_seconds: int = Field(default=3600, gt=0)
    console_url: str | None = None  # base URL printed for executions; None: admin's HTTP address
    # The engine admin launches executions on (propeller's engine API); None records launches only.
    # Several engines sharing one propeller database: "host:port,host:port" (launches round-robin).
    engine_endpoint: str | None = None
    metrics_port: int = Field(default=0, ge=0, le=65535)  # Prometheus GET /metrics on this port; 0: off


class AdminPlaneConfig(PlaneConfig):
    """What admin reads of the whole configuration: the shared settings and its own section."""

    admin: AdminConfig = Field(default_factory=AdminConfig)
