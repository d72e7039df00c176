"""Promise attribute paths (§3.4): into literal maps and collections, Structs and msgpack dataclasses."""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest

from flyteidl_py.core import literals_pb2
from propeller.data import BindingError, resolve_bindings
from tests.unit.propeller.compiler.builders import bindings, promise
from tests.unit.propeller.data.support import (
    OutputStore,
    float_literal,
    int_literal,
    list_literal,
    map_literal,
    outputs,
    runtime_literals,
    str_literal,
)


def struct_literal(value: dict[str, Any]) -> literals_pb2.Literal:
    literal = literals_pb2.Literal()
    literal.scalar.generic.update(value)
    return literal


def msgpack_literal(value: object, tag: str = "msgpack") -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=msgpack.packb(value), tag=tag))
    )


def bool_literal(value: bool) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=value)))


async def resolve(output: literals_pb2.Literal, *path: str | int) -> literals_pb2.Literal:
    """The value `promise("n0", "o0", *path)` resolves to when n0's output o0 is `output`."""
    resolved = await resolve_bindings(bindings(x=promise("n0", "o0", *path)), OutputStore(n0=outputs(o0=output)))
    return resolved.literals["x"]


async def resolve_error(output: literals_pb2.Literal, *path: str | int) -> str:
    with pytest.raises(BindingError) as raised:
        await resolve(output, *path)
    return raised.value.code


MAKE_POINT = runtime_literals("make_point.outputs.pb").literals["o0"]  # Point(x=1, y=2.5, label="p")


# Literal maps and collections.


async def test_map_key_selects_the_value() -> None:
    assert await resolve(map_literal(a=int_literal(1), b=int_literal(2)), "b") == int_literal(2)


async def test_collection_index_selects_the_element() -> None:
    assert await resolve(list_literal(int_literal(5), int_literal(6)), 1) == int_literal(6)


async def test_path_walks_nested_maps_and_collections() -> None:
    nested = map_literal(xs=list_literal(int_literal(5), map_literal(k=str_literal("deep"))))

    assert await resolve(nested, "xs", 1, "k") == str_literal("deep")


async def test_missing_map_key_is_an_attribute_error() -> None:
    assert await resolve_error(map_literal(a=int_literal(1)), "b") == "PromiseAttributeResolveError"


async def test_collection_index_out_of_range_is_an_attribute_error() -> None:
    assert await resolve_error(list_literal(int_literal(5)), 1) == "PromiseAttributeResolveError"


async def test_negative_collection_index_is_an_attribute_error() -> None:
    assert await resolve_error(list_literal(int_literal(5)), -1) == "PromiseAttributeResolveError"


async def test_string_key_into_a_collection_is_an_attribute_error() -> None:
    assert await resolve_error(list_literal(int_literal(5)), "a") == "PromiseAttributeResolveError"


async def test_integer_key_into_a_map_is_an_attribute_error() -> None:
    assert await resolve_error(map_literal(a=int_literal(1)), 0) == "PromiseAttributeResolveError"


async def test_attribute_of_a_primitive_is_an_attribute_error() -> None:
    assert await resolve_error(int_literal(1), "a") == "PromiseAttributeResolveError"


async def test_indexed_var_and_attribute_path_combine() -> None:
    store = OutputStore(n0=outputs(o0=list_literal(map_literal(k=int_literal(1)), map_literal(k=int_literal(2)))))

    resolved = await resolve_bindings(bindings(x=promise("n0", "[1].o0", "k")), store)

    assert resolved.literals["x"] == int_literal(2)


# Structs (`generic`).


async def test_struct_string_field_becomes_a_string() -> None:
    assert await resolve(struct_literal({"label": "p"}), "label") == str_literal("p")


async def test_struct_number_field_becomes_a_float() -> None:
    assert await resolve(struct_literal({"x": 1}), "x") == float_literal(1.0)


async def test_struct_bool_field_becomes_a_boolean() -> None:
    assert await resolve(struct_literal({"ok": True}), "ok") == bool_literal(True)


async def test_struct_nested_object_stays_a_struct() -> None:
    resolved = await resolve(struct_literal({"inner": {"a": "b"}}), "inner")

    assert resolved == struct_literal({"a": "b"})


async def test_struct_list_becomes_a_collection() -> None:
    resolved = await resolve(struct_literal({"xs": ["a", "b"]}), "xs")

    assert resolved == list_literal(str_literal("a"), str_literal("b"))


async def test_struct_list_index_selects_the_element() -> None:
    assert await resolve(struct_literal({"xs": ["a", "b"]}), "xs", 1) == str_literal("b")


async def test_struct_null_becomes_none() -> None:
    resolved = await resolve(struct_literal({"v": None}), "v")

    assert resolved.scalar.WhichOneof("value") == "none_type"


async def test_struct_missing_field_is_an_attribute_error() -> None:
    assert await resolve_error(struct_literal({"x": 1}), "y") == "PromiseAttributeResolveError"


async def test_struct_list_index_out_of_range_is_an_attribute_error() -> None:
    assert await resolve_error(struct_literal({"xs": ["a"]}), "xs", 3) == "PromiseAttributeResolveError"


async def test_attribute_of_a_struct_scalar_field_is_an_attribute_error() -> None:
    assert await resolve_error(struct_literal({"x": "s"}), "x", "y") == "PromiseAttributeResolveError"


async def test_struct_reached_through_a_literal_map_is_walked() -> None:
    nested = map_literal(point=struct_literal({"x": "one"}))

    assert await resolve(nested, "point", "x") == str_literal("one")


# msgpack binaries: flytekit's dataclasses (the real make_point output) and dicts.


async def test_msgpack_dataclass_int_field_becomes_an_integer() -> None:
    assert await resolve(MAKE_POINT, "x") == int_literal(1)


async def test_msgpack_dataclass_float_field_becomes_a_float() -> None:
    assert await resolve(MAKE_POINT, "y") == float_literal(2.5)


async def test_msgpack_dataclass_string_field_becomes_a_string() -> None:
    assert await resolve(MAKE_POINT, "label") == str_literal("p")


async def test_msgpack_dataclass_missing_field_is_an_attribute_error() -> None:
    assert await resolve_error(MAKE_POINT, "z") == "PromiseAttributeResolveError"


async def test_msgpack_bool_field_becomes_a_boolean() -> None:
    assert await resolve(msgpack_literal({"ok": False}), "ok") == bool_literal(False)


async def test_msgpack_nested_object_is_re_encoded_as_msgpack() -> None:
    resolved = await resolve(msgpack_literal({"inner": {"a": 1, "b": [2]}}), "inner")

    assert resolved.scalar.binary.tag == "msgpack"
    assert msgpack.unpackb(resolved.scalar.binary.value) == {"a": 1, "b": [2]}


async def test_msgpack_list_becomes_a_collection_of_msgpack_values() -> None:
    resolved = await resolve(msgpack_literal({"xs": [1, {"k": "v"}]}), "xs")

    elements = resolved.collection.literals
    assert [e.scalar.binary.tag for e in elements] == ["msgpack", "msgpack"]
    assert [msgpack.unpackb(e.scalar.binary.value) for e in elements] == [1, {"k": "v"}]


async def test_msgpack_list_index_selects_the_element() -> None:
    assert await resolve(msgpack_literal({"xs": [1, 2, 3]}), "xs", 2) == int_literal(3)


async def test_msgpack_none_field_stays_a_msgpack_value() -> None:
    resolved = await resolve(msgpack_literal({"v": None}), "v")

    assert msgpack.unpackb(resolved.scalar.binary.value) is None


async def test_msgpack_collection_element_reached_by_index_is_walked() -> None:
    points = list_literal(MAKE_POINT, msgpack_literal({"x": 7}))

    assert await resolve(points, 1, "x") == int_literal(7)


async def test_msgpack_list_index_out_of_range_is_an_attribute_error() -> None:
    assert await resolve_error(msgpack_literal({"xs": [1]}), "xs", 1) == "PromiseAttributeResolveError"


async def test_msgpack_integer_key_into_an_object_is_an_attribute_error() -> None:
    assert await resolve_error(MAKE_POINT, 0) == "PromiseAttributeResolveError"


async def test_attribute_of_a_msgpack_scalar_field_is_an_attribute_error() -> None:
    assert await resolve_error(MAKE_POINT, "x", "y") == "PromiseAttributeResolveError"


async def test_msgpack_integer_beyond_64_bits_is_an_invalid_primitive() -> None:
    assert await resolve_error(msgpack_literal({"big": 2**64 - 1}), "big") == "InvalidPrimitiveType"


async def test_binary_with_another_serialization_tag_is_an_attribute_error() -> None:
    assert await resolve_error(msgpack_literal({"x": 1}, tag="pickle"), "x") == "PromiseAttributeResolveError"


async def test_undecodable_msgpack_is_an_attribute_error() -> None:
    broken = literals_pb2.Literal(scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=b"\xc1", tag="msgpack")))

    assert await resolve_error(broken, "x") == "PromiseAttributeResolveError"


async def test_attribute_path_into_an_offloaded_literal_is_an_attribute_error() -> None:
    offloaded = literals_pb2.Literal(offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(uri="s3://b/o"))

    assert await resolve_error(offloaded, 0) == "PromiseAttributeResolveError"
