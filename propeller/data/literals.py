"""Small literal helpers shared by the data functions and the catalog: constructors (NONE, primitives, binaries)
and a generic Struct's Python form."""

from __future__ import annotations

from google.protobuf import struct_pb2

from flyteidl_py.core import literals_pb2

MSGPACK_TAG = "msgpack"


def none_literal() -> literals_pb2.Literal:
    """The NONE scalar: Flyte's value for an absent optional and for a failed array sub-node's output."""
    literal = literals_pb2.Literal()
    literal.scalar.none_type.SetInParent()
    return literal


def primitive_literal(value: bool | int | float | str) -> literals_pb2.Literal:
    """A primitive scalar literal holding `value` (bool is checked before int, as bool is an int in Python)."""
    literal = literals_pb2.Literal()
    primitive = literal.scalar.primitive
    if isinstance(value, bool):
        primitive.boolean = value
    elif isinstance(value, int):
        primitive.integer = value
    elif isinstance(value, float):
        primitive.float_value = value
    else:
        primitive.string_value = value
    return literal


def binary_literal(value: bytes, tag: str) -> literals_pb2.Literal:
    literal = literals_pb2.Literal()
    literal.scalar.binary.value = value
    literal.scalar.binary.tag = tag
    return literal


def collection_literal(elements: list[literals_pb2.Literal]) -> literals_pb2.Literal:
    literal = literals_pb2.Literal()
    literal.collection.literals.extend(elements)
    return literal


def struct_to_python(struct: struct_pb2.Struct) -> dict[str, object]:
    """A Struct as plain Python values: dicts, lists, floats, strings, booleans and None."""
    return {key: _value_to_python(value) for key, value in struct.fields.items()}


def _value_to_python(value: struct_pb2.Value) -> object:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return struct_to_python(value.struct_value)
    if kind == "list_value":
        return [_value_to_python(item) for item in value.list_value.values]
    if kind == "number_value":
        # A Struct holds only doubles: an int field of a dataclass comes back as a float, as in Flyte.
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None
