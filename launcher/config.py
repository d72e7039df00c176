"""The whole configuration schema: the shared settings and every component's own section, composed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from admin.config import AdminPlaneConfig
from datacatalog.config import DataCatalogPlaneConfig
from flyteplane import config
from propeller.config import PropellerPlaneConfig
from scheduler.config import SchedulerPlaneConfig


class FlyteplaneConfig(AdminPlaneConfig, DataCatalogPlaneConfig, PropellerPlaneConfig, SchedulerPlaneConfig):
    """Everything one YAML file (and `FLYTEPLANE_*` variables) can set; each component reads its own part."""


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> FlyteplaneConfig:
    """The effective configuration (see `flyteplane.config.load_config` for precedence and errors)."""
    return config.load_config(FlyteplaneConfig, path, env)
