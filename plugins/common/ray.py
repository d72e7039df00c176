"""A ray task's RayJob custom and its runtime environment, read alike by the KubeRay backend (`plugins.k8s.ray`) and
the Ray Jobs API one (`plugins.ray_jobs`)."""

from __future__ import annotations

import base64
import json
from typing import Any

import yaml
from google.protobuf import json_format

from flyteidl_py.plugins import ray_pb2
from plugins.core import BadTaskDefinition, TaskExecutionContext


def ray_job(ctx: TaskExecutionContext) -> ray_pb2.RayJob:
    """The task's RayJob custom; BadTaskDefinition if it has none."""
    if not ctx.template.HasField("custom"):
        raise BadTaskDefinition("a ray task needs its RayJob in the template's custom field")
    job = ray_pb2.RayJob()
    json_format.ParseDict(json_format.MessageToDict(ctx.template.custom), job, ignore_unknown_fields=True)
    return job


def runtime_env_of(job: ray_pb2.RayJob) -> dict[str, Any]:
    """The job's runtime environment: `runtime_env_yaml`, else the deprecated base64 JSON `runtime_env`."""
    try:
        if job.runtime_env_yaml:
            value = yaml.safe_load(job.runtime_env_yaml)
        elif job.runtime_env:
            value = json.loads(base64.b64decode(job.runtime_env))
        else:
            return {}
    except (ValueError, yaml.YAMLError) as exc:
        raise BadTaskDefinition(f"the RayJob's runtime environment is unreadable: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadTaskDefinition("the RayJob's runtime environment must be a mapping")
    return value
