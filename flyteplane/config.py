"""Loading flyteplane's one configuration schema: defaults, a YAML file, then the environment.

The schema is composed, not declared here: this module holds what every component shares
(`PlaneConfig`: data directory, logging, storage); each component declares its own typed section
(`admin.config`, `datacatalog.config`, `propeller.config`, the plugins' `plugins.config`) and the
`flyteplane` command puts them together (`launcher.config.FlyteplaneConfig`).

Precedence, lowest first: built-in defaults (enough to run with no file at all), the YAML file
given with `--config`, then environment variables `FLYTEPLANE_<SECTION>__<KEY>=value` (values are
parsed as YAML scalars, so `FLYTEPLANE_LOGGING__LEVEL=DEBUG` and `FLYTEPLANE_ADMIN__GRPC_PORT=30081`
both work). Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from flyteplane.errors import InvalidArgument
from flyteplane.storage.config import StorageConfig

ENV_PREFIX = "FLYTEPLANE_"


def default_data_dir() -> Path:
    return Path(os.environ.get("FLYTEPLANE_HOME") or Path.home() / ".flyteplane")


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


# Written in either case in the file (`debug`, `DEBUG`).
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)]

# The components a level may name by their short name (`levels: {admin: debug}`): their loggers are
# `flyteplane.<component>` and everything under it.
LOG_COMPONENTS = ("admin", "propeller", "datacatalog", "scheduler")


class LoggingConfig(Section):
    level: LogLevel = "INFO"
    format: Literal["text", "json"] = "text"
    # Per component, e.g. {admin: debug, propeller: info}: a component's short name (LOG_COMPONENTS) or
    # any logger name with everything under it ("flyteplane.admin.delivery", "plugins.local").
    levels: dict[str, LogLevel] = Field(default_factory=dict)

    def logger_levels(self) -> dict[str, str]:
        """`levels` by logger name."""
        return {(f"flyteplane.{name}" if name in LOG_COMPONENTS else name): lvl for name, lvl in self.levels.items()}


class TracingConfig(Section):
    """OpenTelemetry traces (flyteplane/tracing.py): off unless enabled here or by OTEL_EXPORTER_OTLP_ENDPOINT.

    Unset fields fall back to the standard OTEL_* variables the SDK reads (endpoint, protocol, headers).
    """

    enabled: bool = False
    endpoint: str = ""  # e.g. http://127.0.0.1:4317 (gRPC) or http://127.0.0.1:4318 (HTTP)
    protocol: Literal["", "grpc", "http/protobuf"] = ""
    insecure: bool = True  # gRPC without TLS, as a collector next to the plane usually listens
    service_name: str = "flyteplane"


class PlaneConfig(Section):
    """The settings every component shares: the data directory, logging and the object store.

    Each component extends it with its own section (`admin.config.AdminPlaneConfig`, ...); the
    `flyteplane` command composes all of them into one schema (`launcher.config.FlyteplaneConfig`).
    """

    data_dir: Path = Field(default_factory=default_data_dir)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    # What the plane's own components present to each other (flyteplane/credentials.py): engine
    # events to admin, admin's launches to the engine. Unset: kept in <data_dir>/plane-credential,
    # which every component on one machine shares; components on several machines need one value.
    credential: SecretStr | None = None

    def plane_credential(self) -> str:
        """The configured credential, or the one kept in the data directory. Blocking: off the loop."""
        from flyteplane.credentials import plane_credential

        return plane_credential(self.credential.get_secret_value() if self.credential else None, self.data_dir)

    def database_url(self, component: str, configured: str | None) -> str:
        """A component's configured database, or its SQLite file in the data directory."""
        return configured or f"sqlite:///{self.data_dir.expanduser() / (component + '.db')}"


P = TypeVar("P", bound=PlaneConfig)


def _env_overrides(env: Mapping[str, str], sections: Iterable[str]) -> dict[str, Any]:
    """`FLYTEPLANE_A__B=v` -> {"a": {"b": v}}, for variables whose first part names a section."""
    tree: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if path[0] not in sections:
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


def load_config(schema: type[P], path: Path | None = None, env: Mapping[str, str] | None = None) -> P:
    """Build the effective configuration of `schema`; a bad file or value raises InvalidArgument naming it."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidArgument(f"cannot read configuration file: {exc}", field=str(path)) from exc
        if not isinstance(loaded, dict):
            raise InvalidArgument("configuration file must hold a mapping", field=str(path))
        data = loaded
    data = _merge(data, _env_overrides(os.environ if env is None else env, schema.model_fields))
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidArgument(f"{first['msg']} ({exc.error_count()} problem(s) in all)", field=where) from exc
