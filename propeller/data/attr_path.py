"""Promise attribute paths (`promise.a["b"][0]`): walking into maps, collections, Structs and msgpack values.

Mirrors flytepropeller's `attr_path_resolver.go`: the path first walks literal maps (string keys) and literal
collections (int indexes); whatever remains is applied inside a `generic` Struct or a msgpack `binary` value,
and the selected value is turned back into a literal. Where Go is lenient by accident we are strict: an
attribute of the wrong kind (an int key into a map, a string index into a list), a negative index, or path
left over on a literal that cannot be walked (a primitive, a union, a blob) is a PromiseAttributeResolveError
instead of being ignored or read as index 0.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from typing import cast

import msgpack
from google.protobuf import struct_pb2

from flyteidl_py.core import literals_pb2, types_pb2
from propeller.data.errors import INVALID_PRIMITIVE_TYPE, PROMISE_ATTRIBUTE_RESOLVE_ERROR, BindingError
from propeller.data.literals import (
    MSGPACK_TAG,
    binary_literal,
    collection_literal,
    none_literal,
    primitive_literal,
    struct_to_python,
)

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def resolve_attr_path(
    literal: literals_pb2.Literal, path: Sequence[types_pb2.PromiseAttribute], *, node_id: str
) -> literals_pb2.Literal:
    """The part of `literal` that `path` selects, as a new literal; `node_id` names the source in errors."""
    current = literal
    walked = 0
    for attr in path:
        kind = current.WhichOneof("value")
        if kind == "map":
            current = current.map.literals[_key(attr, current.map.literals, node_id)]
        elif kind == "collection":
            current = current.collection.literals[_index(attr, len(current.collection.literals), node_id)]
        elif kind == "offloaded_metadata":
            # Loading the offloaded literal is I/O, which the caller does before resolving.
            raise BindingError(
                PROMISE_ATTRIBUTE_RESOLVE_ERROR,
                f"cannot resolve an attribute path into an offloaded literal of node [{node_id}]",
            )
        else:
            break
        walked += 1
    rest = path[walked:]
    if current.WhichOneof("value") == "scalar":
        scalar_kind = current.scalar.WhichOneof("value")
        # As in Flyte, a walked-to binary or Struct is always re-read, even when no path is left.
        if scalar_kind == "binary":
            return _resolve_in_binary(current.scalar.binary, rest, node_id)
        if scalar_kind == "generic":
            return _resolve_in_struct(current.scalar.generic, rest, node_id)
    if rest:
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR,
            f"attribute [{_attr_str(rest[0])}] cannot be resolved in a literal of kind "
            f"[{_literal_kind(current)}] of node [{node_id}]",
        )
    resolved = literals_pb2.Literal()
    resolved.CopyFrom(current)
    return resolved


def _key(attr: types_pb2.PromiseAttribute, keys: Container[object], node_id: str) -> str:
    if attr.WhichOneof("value") != "string_value":
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR, f"map key must be a string, got [{_attr_str(attr)}] of node [{node_id}]"
        )
    if attr.string_value not in keys:
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR, f"key [{attr.string_value}] does not exist in literal of node [{node_id}]"
        )
    return attr.string_value


def _index(attr: types_pb2.PromiseAttribute, length: int, node_id: str) -> int:
    if attr.WhichOneof("value") != "int_value":
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR,
            f"collection index must be an integer, got [{_attr_str(attr)}] of node [{node_id}]",
        )
    if not 0 <= attr.int_value < length:
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR,
            f"index [{attr.int_value}] is out of range of a collection of {length} in node [{node_id}]",
        )
    return attr.int_value


def _attr_str(attr: types_pb2.PromiseAttribute) -> str:
    return repr(attr.string_value) if attr.WhichOneof("value") == "string_value" else str(attr.int_value)


def _literal_kind(literal: literals_pb2.Literal) -> str:
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return f"scalar.{literal.scalar.WhichOneof('value')}"
    return str(kind)


def _walk_python(value: object, path: Sequence[types_pb2.PromiseAttribute], node_id: str) -> object:
    """Apply `path` to a decoded Struct or msgpack value: string keys into dicts, int indexes into lists."""
    for attr in path:
        if isinstance(value, dict):
            value = value[_key(attr, value, node_id)]
        elif isinstance(value, list):
            value = value[_index(attr, len(value), node_id)]
        else:
            raise BindingError(
                PROMISE_ATTRIBUTE_RESOLVE_ERROR,
                f"attribute [{_attr_str(attr)}] cannot be resolved in a value of type "
                f"[{type(value).__name__}] of node [{node_id}]",
            )
    return value


def _resolve_in_binary(
    binary: literals_pb2.Binary, path: Sequence[types_pb2.PromiseAttribute], node_id: str
) -> literals_pb2.Literal:
    """Walk a msgpack binary (the SDK's dataclasses, dicts and pydantic models) and re-encode the selection.

    Lists become a collection of msgpack binaries, primitives become primitive literals, anything else
    (maps, None, bytes) a msgpack binary with the same tag.
    """
    if binary.tag != MSGPACK_TAG:
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR,
            f"Unsupported format '{binary.tag}' found for literal value of node [{node_id}]. "
            "Please ensure the serialization format is supported.",
        )
    try:
        decoded: object = msgpack.unpackb(binary.value, raw=False, strict_map_key=False)
    except (ValueError, TypeError) as exc:
        raise BindingError(
            PROMISE_ATTRIBUTE_RESOLVE_ERROR, f"msgpack value of node [{node_id}] cannot be decoded: {exc}"
        ) from exc
    selected = _walk_python(decoded, path, node_id)
    if isinstance(selected, list):
        return collection_literal([binary_literal(_pack(element), binary.tag) for element in selected])
    if isinstance(selected, bool | int | float | str):
        if isinstance(selected, int) and not isinstance(selected, bool) and not _INT64_MIN <= selected <= _INT64_MAX:
            raise BindingError(
                INVALID_PRIMITIVE_TYPE, f"integer {selected} of node [{node_id}] does not fit a 64-bit integer"
            )
        return primitive_literal(selected)
    return binary_literal(_pack(selected), binary.tag)


def _pack(value: object) -> bytes:
    return cast("bytes", msgpack.packb(value, use_bin_type=True))


def _resolve_in_struct(
    struct: struct_pb2.Struct, path: Sequence[types_pb2.PromiseAttribute], node_id: str
) -> literals_pb2.Literal:
    """Walk a `generic` Struct and convert the selection: dicts stay Structs, lists become collections."""
    return _python_to_literal(_walk_python(struct_to_python(struct), path, node_id))


def _python_to_literal(value: object) -> literals_pb2.Literal:
    if isinstance(value, dict):
        literal = literals_pb2.Literal()
        literal.scalar.generic.update(value)
        return literal
    if isinstance(value, list):
        return collection_literal([_python_to_literal(item) for item in value])
    if isinstance(value, bool | float | str):
        return primitive_literal(value)
    # A Struct null: Flyte leaves the literal empty; an explicit NONE is what a consumer can read.
    return none_literal()
