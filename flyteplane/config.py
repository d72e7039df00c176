"""One typed configuration schema for every flyteplane process: defaults, a YAML file, then the environment.

Precedence, lowest first: built-in defaults (enough to run with no file at all), the YAML file
given with `--config`, then environment variables `FLYTEPLANE_<SECTION>__<KEY>=value` (values are
parsed as YAML scalars, so `FLYTEPLANE_LOGGING__LEVEL=DEBUG` and `FLYTEPLANE_ADMIN__GRPC_PORT=30081`
both work). Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flyteplane.errors import InvalidArgument
from flyteplane.storage.config import StorageConfig

ENV_PREFIX = "FLYTEPLANE_"


def default_data_dir() -> Path:
    return Path(os.environ.get("FLYTEPLANE_HOME") or Path.home() / ".flyteplane")


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


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


class DataCatalogConfig(Section):
    """DataCatalog: where it listens, its database, where artifact data goes, and reservation timing."""

    host: str = "127.0.0.1"
    grpc_port: int = Field(default=30089, ge=0, le=65535)
    database_url: str | None = None  # None: SQLite at <data_dir>/datacatalog.db
    # Artifact data (one core.Literal per output) lives in the object store under
    # <storage default prefix>/<storage_prefix>/<project>/<domain>/<dataset name>/<version>/<artifact id>/...
    storage_prefix: str = "datacatalog"
    # A reservation's heartbeat is the caller's, capped at this; it expires after heartbeat x multiplier.
    max_reservation_heartbeat_seconds: float = Field(default=10.0, gt=0)
    heartbeat_grace_period_multiplier: float = Field(default=3.0, gt=0)


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
    # Which plugin serves each task type and the backends' settings (plugins.config.PluginsConfig).
    plugins: dict[str, Any] = Field(default_factory=dict)


class FlyteplaneConfig(Section):
    """The whole configuration; each component reads its own section."""

    data_dir: Path = Field(default_factory=default_data_dir)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)
    datacatalog: DataCatalogConfig = Field(default_factory=DataCatalogConfig)
    propeller: PropellerConfig = Field(default_factory=PropellerConfig)

    def database_url(self, component: str, configured: str | None) -> str:
        """A component's configured database, or its SQLite file in the data directory."""
        return configured or f"sqlite:///{self.data_dir.expanduser() / (component + '.db')}"


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """`FLYTEPLANE_A__B=v` -> {"a": {"b": v}}, for variables whose first part names a section."""
    tree: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if path[0] not in FlyteplaneConfig.model_fields:
            continue  # e.g. FLYTEPLANE_HOME, read on its own by default_data_dir()
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = yaml.safe_load(raw) if raw else raw
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> FlyteplaneConfig:
    """Build the effective configuration; a bad file or value raises InvalidArgument naming it."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidArgument(f"cannot read configuration file: {exc}", field=str(path)) from exc
        if not isinstance(loaded, dict):
            raise InvalidArgument("configuration file must hold a mapping", field=str(path))
        data = loaded
    data = _merge(data, _env_overrides(os.environ if env is None else env))
    try:
        return FlyteplaneConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidArgument(f"{first['msg']} ({exc.error_count()} problem(s) in all)", field=where) from exc
