"""JSON-schema comparison for dataclass-typed STRUCTs: may a value of one schema be read as another."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

# Keywords that describe a schema without constraining values, or that the comparison does not implement
# (Flyte's comparison tolerates "not implemented" differences such as additionalProperties).
_IGNORED = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "additionalProperties",
        "$schema",
        "$id",
        "$defs",
        "definitions",
        "$comment",
    }
)


def schemas_compatible(upstream: struct_pb2.Struct, downstream: struct_pb2.Struct) -> bool:
    """True when the two schemas are identical, or every value valid for `upstream` is valid for `downstream`.

    The second case is what lets a dataclass with extra fields flow into one that declares fewer: every
    property the downstream schema declares must exist upstream with a compatible schema.
    """
    up = json_format.MessageToDict(upstream)
    down = json_format.MessageToDict(downstream)
    if up == down:
        return True
    return _compatible(up, up, down, down, depth=0)


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    """Follow a local `$ref` ("#/$defs/X" or "#/definitions/X"), as the SDK emits for nested dataclasses."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
        target: Any = root
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        for part in ref[2:].split("/"):
            if not isinstance(target, dict) or part not in target:
                return schema
            target = target[part]
        schema = target
        seen += 1
    return schema


def _compatible(up: Any, up_root: dict[str, Any], down: Any, down_root: dict[str, Any], *, depth: int) -> bool:
    if depth > 64:
        return False
    up = _resolve(up, up_root)
    down = _resolve(down, down_root)
    if not isinstance(up, dict) or not isinstance(down, dict):
        return bool(up == down)
    if "type" in up and "type" in down and up["type"] != down["type"]:
        return False
    down_props = down.get("properties")
    if isinstance(down_props, dict):
        up_props = up.get("properties")
        if not isinstance(up_props, dict):
            return False
        for name, down_prop in down_props.items():
            if name not in up_props:
                return False
            if not _compatible(up_props[name], up_root, down_prop, down_root, depth=depth + 1):
                return False
        if not set(down.get("required", [])) <= set(up_props):
            return False
    down_extra, up_extra = down.get("additionalProperties"), up.get("additionalProperties")
    # A dict-typed field carries its value schema in additionalProperties.
    if (
        isinstance(down_extra, dict)
        and isinstance(up_extra, dict)
        and not _compatible(up_extra, up_root, down_extra, down_root, depth=depth + 1)
    ):
        return False
    if "items" in down:
        if "items" not in up:
            return False
        if not _compatible(up["items"], up_root, down["items"], down_root, depth=depth + 1):
            return False
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword in down or keyword in up:
            up_options, down_options = up.get(keyword), down.get(keyword)
            if not isinstance(up_options, list) or not isinstance(down_options, list):
                return False
            # Every upstream alternative must fit some downstream alternative.
            if not all(
                any(_compatible(u, up_root, d, down_root, depth=depth + 1) for d in down_options) for u in up_options
            ):
                return False
    checked = {"type", "properties", "required", "items", "anyOf", "oneOf", "allOf", "$ref"}
    for keyword, value in down.items():
        if keyword in checked or keyword in _IGNORED:
            continue
        if up.get(keyword) != value:
            return False
    return True
