"""Canonical hashes of literals and interfaces, the raw material of cache keys.

The scheme follows Flyte's `pbhash`: a message is rendered in its proto3 JSON form (camelCase
names, zero values left out, int64 as strings, enums by name) and that tree is hashed with Ben
Laurie's *objecthash* (SHA-256; dict entries are hashed as sorted (key hash, value hash) pairs,
so map and Struct key order never matters; JSON numbers are hashed as normalised floats). Hashes
are written as unpadded URL-safe base64. Literals are "hashified" first, as in Flyte: a literal
with a non-empty `hash` field stands for that hash alone.

We need stable, canonical hashes, not byte-identical ones with Flyte's Go implementation, and we
deliberately differ from it in these places (so a cache written by Flyte is not expected to hit
here, nor the other way round):

- `Binary{tag: "msgpack"}` values (flytekit's dataclasses, Pydantic models, dicts) are decoded
  and hashed as values, so two encodings of one value with different map key order hash alike;
  Flyte hashes their bytes. Undecodable msgpack falls back to the bytes.
- Hashification reaches every nested literal, union values included; Flyte's stops at
  collections and maps.
- The interface hash covers variable names and their types only (type metadata stripped, as
  Flyte strips it in the CRD); Flyte also hashes each variable's description, so editing a
  docstring would invalidate its cache.
- Struct NaN/Infinity numbers are hashed (as such) where Flyte's JSON rendering refuses them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from flyteidl_py.core import interface_pb2, literals_pb2, types_pb2
from propeller.catalog.msgpack import MsgpackError, MsgpackExt, MsgpackMap, unpack
from propeller.compiler.digest import normalize_float, tagged
from propeller.compiler.types import nested_types
from propeller.data.literals import struct_to_python

MSGPACK_TAG = "msgpack"
# Type annotations under this key take part in the interface hash (flytekit's cache-key annotations).
CACHE_KEY_ANNOTATION = "cache-key-metadata"


# -- objecthash -------------------------------------------------------------------------------------


def object_hash(value: object) -> bytes:
    """objecthash of a JSON-like tree (plus bytes, ints and decoded msgpack values)."""
    if value is None:
        return tagged(b"n", b"")
    if isinstance(value, bool):
        return tagged(b"b", b"1" if value else b"0")
    if isinstance(value, int):
        return tagged(b"i", str(value).encode())
    if isinstance(value, float):
        return tagged(b"f", normalize_float(value).encode())
    if isinstance(value, str):
        return tagged(b"u", value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return tagged(b"r", value)
    if isinstance(value, list | tuple):
        return tagged(b"l", b"".join(object_hash(item) for item in value))
    if isinstance(value, dict):
        return _pairs_hash(value.items())
    if isinstance(value, MsgpackMap):
        return _pairs_hash(value.items)
    if isinstance(value, MsgpackExt):
        return tagged(b"l", object_hash("msgpack-ext") + object_hash(value.code) + object_hash(value.data))
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _pairs_hash(pairs: Iterable[tuple[object, object]]) -> bytes:
    return tagged(b"d", b"".join(sorted(object_hash(key) + object_hash(item) for key, item in pairs)))


def encode(digest: bytes) -> str:
    """Unpadded URL-safe base64, the form Flyte writes hashes in."""
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# -- proto3 JSON trees ----------------------------------------------------------------------------


def _floats(tree: Any) -> Any:
    """JSON numbers are all doubles to objecthash's common-JSON form: 1 and 1.0 hash alike."""
    if isinstance(tree, bool) or tree is None or isinstance(tree, str):
        return tree
    if isinstance(tree, int | float):
        return float(tree)
    if isinstance(tree, list):
        return [_floats(item) for item in tree]
    return {key: _floats(item) for key, item in tree.items()}


def message_tree(message: Message) -> Any:
    """The message's proto3 JSON form as Python values, numbers as floats."""
    return _floats(json_format.MessageToDict(message))


def _json_name(message: Message, field: str) -> str:
    name: str = message.DESCRIPTOR.fields_by_name[field].json_name
    return name


def _scalar_tree(scalar: literals_pb2.Scalar) -> dict[str, Any]:
    kind = scalar.WhichOneof("value")
    if kind is None:
        return {}
    if kind == "union":
        union: dict[str, Any] = {}
        if scalar.union.HasField("value"):
            union["value"] = literal_tree(scalar.union.value)
        if scalar.union.HasField("type"):
            union["type"] = message_tree(scalar.union.type)
        return {"union": union}
    if kind == "generic":
        return {"generic": struct_to_python(scalar.generic)}
    if kind == "binary" and scalar.binary.tag == MSGPACK_TAG:
        try:
            decoded = unpack(scalar.binary.value)
        except MsgpackError:
            pass
        else:
            return {"binary": {"tag": MSGPACK_TAG, "msgpack": decoded}}
    return {_json_name(scalar, kind): message_tree(getattr(scalar, kind))}


def literal_tree(literal: literals_pb2.Literal) -> dict[str, Any]:
    """The hashified literal's proto3 JSON form, with msgpack binaries decoded."""
    if literal.hash:
        return {"hash": literal.hash}
    tree: dict[str, Any] = {}
    kind = literal.WhichOneof("value")
    if kind == "collection":
        items = [literal_tree(item) for item in literal.collection.literals]
        tree["collection"] = {"literals": items} if items else {}
    elif kind == "map":
        entries = {name: literal_tree(item) for name, item in literal.map.literals.items()}
        tree["map"] = {"literals": entries} if entries else {}
    elif kind == "scalar":
        tree["scalar"] = _scalar_tree(literal.scalar)
    elif kind is not None:
        tree[_json_name(literal, kind)] = message_tree(getattr(literal, kind))
    if literal.metadata:
        tree["metadata"] = dict(literal.metadata)
    return tree


# -- public hashes --------------------------------------------------------------------------------


def literal_hash(literal: literals_pb2.Literal) -> str:
    return encode(object_hash(literal_tree(literal)))


def literal_map_hash(
    literals: literals_pb2.LiteralMap | Mapping[str, literals_pb2.Literal], ignore: Iterable[str] = ()
) -> str:
    """The hash of a literal map without the `ignore`d names; the order of the entries never matters."""
    entries = literals.literals if isinstance(literals, literals_pb2.LiteralMap) else literals
    skipped = set(ignore)
    tree = {name: literal_tree(literal) for name, literal in entries.items() if name not in skipped}
    return encode(object_hash({"literals": tree} if tree else {}))


def strip_type_metadata(literal_type: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """The type without documentation-only parts, as Flyte stores interfaces in the CRD: `metadata`
    cleared throughout (collections, maps, unions, dataclass fields, structured-dataset columns), and
    `annotation` kept only when it carries the cache-key annotation."""
    stripped = types_pb2.LiteralType()
    stripped.CopyFrom(literal_type)
    _strip(stripped)
    return stripped


def _strip(literal_type: types_pb2.LiteralType) -> None:
    literal_type.ClearField("metadata")
    if CACHE_KEY_ANNOTATION not in literal_type.annotation.annotations.fields:
        literal_type.ClearField("annotation")
    for nested in nested_types(literal_type):
        _strip(nested)
    if literal_type.WhichOneof("type") == "structured_dataset_type":
        for column in literal_type.structured_dataset_type.columns:
            _strip(column.literal_type)
    for field_type in literal_type.structure.dataclass_type.values():
        _strip(field_type)


def variable_map_hash(variables: interface_pb2.VariableMap) -> str:
    """The hash of an interface side: each variable's name and stripped type (nothing else)."""
    tree = {name: {"type": message_tree(strip_type_metadata(var.type))} for name, var in variables.variables.items()}
    return encode(object_hash({"variables": tree} if tree else {}))
