"""A container's requests and limits: the task's resources merged with platform defaults and capped (Flyte's rules).

- a request the task leaves unset takes the task's limit if there is one, else the platform default;
- a limit the task leaves unset equals the request;
- every request and limit is capped at the platform maximum, and a request never exceeds its limit;
- GPUs are requested under the configured resource name, with the limit equal to the request.
"""

from __future__ import annotations

from collections.abc import Mapping

from flyteidl_py.core import tasks_pb2
from plugins.common.quantity import quantity
from plugins.k8s.config import PodConfig, ResourceSet

_NAMES: dict[int, str] = {
    tasks_pb2.Resources.CPU: "cpu",
    tasks_pb2.Resources.MEMORY: "memory",
    tasks_pb2.Resources.STORAGE: "storage",
    tasks_pb2.Resources.EPHEMERAL_STORAGE: "ephemeral-storage",
}


def _entries(entries: Mapping[int, str] | list[tasks_pb2.Resources.ResourceEntry], gpu_name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    items = entries.items() if isinstance(entries, Mapping) else [(e.name, e.value) for e in entries]
    for name, value in items:
        if not value:
            continue
        key = gpu_name if name == tasks_pb2.Resources.GPU else _NAMES.get(name)
        if key is None:
            continue
        quantity(value)  # refuse a malformed quantity at build time, not at the API server
        out[key] = value
    return out


def _smaller(a: str, b: str) -> str:
    return a if quantity(a) <= quantity(b) else b


def container_resources(resources: tasks_pb2.Resources | None, config: PodConfig) -> dict[str, dict[str, str]]:
    """`{"requests": {...}, "limits": {...}}` for the primary container of a task."""
    gpu = config.gpu_resource_name
    requested = _entries(list(resources.requests) if resources else [], gpu)
    limited = _entries(list(resources.limits) if resources else [], gpu)
    return merge_resources(requested, limited, config)


def merge_resources(requested: dict[str, str], limited: dict[str, str], config: PodConfig) -> dict[str, dict[str, str]]:
    """Apply the module's rules to requests/limits given by resource name."""
    gpu = config.gpu_resource_name
    default_requests = config.default_requests.as_dict(gpu)
    caps = config.max_limits.as_dict(gpu)
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for name in sorted({*requested, *limited, *default_requests}):
        request = requested.get(name) or limited.get(name) or default_requests.get(name)
        limit = limited.get(name) or request
        if name == gpu:
            limit = request = request or limit
        if request is None or limit is None:
            continue
        if name in caps:
            request, limit = _smaller(request, caps[name]), _smaller(limit, caps[name])
        requests[name] = _smaller(request, limit)
        limits[name] = limit
    return {"requests": requests, "limits": limits}


def clamp_resources(resources: Mapping[str, Mapping[str, str]], config: PodConfig) -> dict[str, dict[str, str]]:
    """A secondary container's resources, kept as given but capped at the platform maximum."""
    caps = ResourceSet.as_dict(config.max_limits, config.gpu_resource_name)
    out: dict[str, dict[str, str]] = {}
    for section in ("requests", "limits"):
        values = {k: str(v) for k, v in (resources.get(section) or {}).items()}
        out[section] = {k: (_smaller(v, caps[k]) if k in caps else v) for k, v in values.items()}
    return {k: v for k, v in out.items() if v}
