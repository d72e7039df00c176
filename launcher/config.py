"""The whole configuration schema: the shared settings and every component's own section, composed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from admin.config import AdminPlaneConfig
from datacatalog.config import DataCatalogPlaneConfig
from flyteplane import config
from flyteplane.kube import KubeConnection
from propeller.config import PropellerPlaneConfig
from scheduler.config import SchedulerPlaneConfig


class FlyteplaneConfig(AdminPlaneConfig, DataCatalogPlaneConfig, PropellerPlaneConfig, SchedulerPlaneConfig):
    """Everything one YAML file (and `FLYTEPLANE_*` variables) can set; each component reads its own part."""


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> FlyteplaneConfig:
    """The effective configuration (see `flyteplane.config.load_config` for precedence and errors)."""
    return with_pod_log_clusters(config.load_config(FlyteplaneConfig, path, env))


def with_pod_log_clusters(plane: FlyteplaneConfig) -> FlyteplaneConfig:
    """`plane` with admin reading the pod logs of every Kubernetes backend it configures (`admin.logs.kubernetes`)
    through that backend's connection, unless admin's section names that backend already."""
    known = plane.admin.logs.kubernetes
    found = {
        backend: KubeConnection.model_validate(settings["kube"].get("connection") or {})
        for backend, settings in plane.propeller.plugins.backends.items()
        if backend not in known and isinstance(settings.get("kube"), Mapping)
    }
    if not found:
        return plane
    logs = plane.admin.logs.model_copy(update={"kubernetes": {**known, **found}})
    return plane.model_copy(update={"admin": plane.admin.model_copy(update={"logs": logs})})
