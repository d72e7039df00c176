"""Validation of generated Kubernetes objects without an API server.

- Custom resources (SparkApplication, RayJob) against the OpenAPI v3 schema of their CRD in
  `tests/fixtures/crds/`, made strict the way `kubectl --validate=strict` is: a field the
  schema does not declare is an error (unless the schema preserves unknown fields).
- Pods (and the pod templates inside custom resources) against the Kubernetes OpenAPI definitions
  as the `kubernetes` Python client's generated models encode them (`openapi_types` and
  `attribute_map` of V1Pod and everything it references): unknown fields, wrong JSON types, and,
  by deserializing into the models, missing required fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
import yaml
from kubernetes import client

from tests.support.paths import crds_dir

_CRD_FILES = {
    "SparkApplication": "sparkoperator.k8s.io_sparkapplications.yaml",
    "RayJob": "ray.io_rayjobs.yaml",
    "RayCluster": "ray.io_rayclusters.yaml",
}


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_schema(kind: str, api_version: str) -> dict[str, Any]:
    """The strict OpenAPI schema of `kind` at `api_version` from the reference CRDs."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load((crds_dir() / _CRD_FILES[kind]).read_text(), Loader=loader)
    version = api_version.rsplit("/", maxsplit=1)[-1]
    for entry in document["spec"]["versions"]:
        if entry["name"] == version:
            schema: dict[str, Any] = _strict(entry["schema"]["openAPIV3Schema"])
            return schema
    raise AssertionError(f"the {kind} CRD has no version {version}")


def custom_resource_errors(obj: Mapping[str, Any]) -> list[str]:
    """Why `obj` would be refused against its CRD (empty when it validates)."""
    schema = crd_schema(str(obj["kind"]), str(obj["apiVersion"]))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(dict(obj))]
    return errors + metadata_errors(obj.get("metadata") or {})


_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict\[str, (.+)\]$")


def model_errors(value: Any, type_name: str, path: str = "") -> list[str]:
    """Type errors of `value` (JSON) against a model type name of the kubernetes client (e.g. `V1Pod`)."""
    if type_name == "str" or type_name in ("datetime", "date"):
        return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
    if type_name == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if type_name == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if type_name == "bool":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if type_name == "object":
        return []
    if match := _LIST.match(type_name):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [e for i, item in enumerate(value) for e in model_errors(item, match.group(1), f"{path}[{i}]")]
    if match := _DICT.match(type_name):
        if not isinstance(value, dict):
            return [f"{path}: expected a mapping, got {value!r}"]
        return [e for k, item in value.items() for e in model_errors(item, match.group(1), f"{path}.{k}")]
    model = getattr(client.models, type_name)
    if not isinstance(value, dict):
        return [f"{path}: expected a {type_name} object, got {value!r}"]
    fields = {json_name: attribute for attribute, json_name in model.attribute_map.items()}
    errors = []
    for key, item in value.items():
        if key not in fields:
            errors.append(f"{path}.{key}: unknown field of {type_name}")
            continue
        errors.extend(model_errors(item, model.openapi_types[fields[key]], f"{path}.{key}"))
    return errors


def _required_errors(value: Mapping[str, Any], type_name: str) -> list[str]:
    """Missing required fields, found by building the client's models (they refuse a None required field)."""
    api = client.ApiClient()
    try:
        api._ApiClient__deserialize(dict(value), type_name)  # type: ignore[attr-defined]
    except ValueError as exc:
        return [f"{type_name}: {exc}"]
    return []


_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def metadata_errors(metadata: Mapping[str, Any]) -> list[str]:
    """The API server's rules for names, namespaces, label keys and values."""
    errors = model_errors(dict(metadata), "V1ObjectMeta", "metadata")
    for key in ("name", "namespace"):
        name = metadata.get(key)
        if name is not None and (len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name)):
            errors.append(f"metadata.{key}: {name!r} is not a DNS-1123 subdomain")
    for key, value in (metadata.get("labels") or {}).items():
        if not _LABEL_KEY.match(key):
            errors.append(f"metadata.labels: invalid key {key!r}")
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            errors.append(f"metadata.labels.{key}: invalid value {value!r}")
    return errors


def pod_errors(pod: Mapping[str, Any]) -> list[str]:
    """Why the API server would refuse `pod` by its schema (empty when it validates)."""
    errors = model_errors(dict(pod), "V1Pod", "pod") + _required_errors(pod, "V1Pod")
    errors += metadata_errors(pod.get("metadata") or {})
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    for name in names:
        if not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", str(name)) or len(str(name)) > 63:
            errors.append(f"container name {name!r} is not a DNS-1123 label")
    if len(set(names)) != len(names):
        errors.append(f"duplicate container names {names}")
    return errors


def pod_template_errors(template: Mapping[str, Any]) -> list[str]:
    return model_errors(dict(template), "V1PodTemplateSpec", "template") + _required_errors(
        template, "V1PodTemplateSpec"
    )
