"""Small literal constructors shared by the data functions (NONE, primitives, msgpack binaries)."""

from __future__ import annotations

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
