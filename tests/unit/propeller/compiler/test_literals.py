"""Literal type inference (§1.9) and validation of a literal against an expected type."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from flyteidl_py.core import literals_pb2, types_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler import literal_type_of, validate_literal
from tests.unit.propeller.compiler.builders import (
    BOOL,
    FLOAT,
    INT,
    NONE,
    STR,
    STRUCT,
    LiteralType,
    integer,
    list_of,
    map_of,
    optional,
    string,
    union,
)

Literal = literals_pb2.Literal


def of(scalar: literals_pb2.Scalar) -> Literal:
    return Literal(scalar=scalar)


def primitive(**value: Any) -> Literal:
    return of(literals_pb2.Scalar(primitive=literals_pb2.Primitive(**value)))


def items(*literals: Literal) -> Literal:
    return Literal(collection=literals_pb2.LiteralCollection(literals=literals))


def mapping(**literals: Literal) -> Literal:
    return Literal(map=literals_pb2.LiteralMap(literals=literals))


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        (primitive(integer=1), INT),
        (primitive(float_value=1.5), FLOAT),
        (primitive(string_value="s"), STR),
        (primitive(boolean=True), BOOL),
        (primitive(datetime=timestamp_pb2.Timestamp(seconds=1)), LiteralType(simple=types_pb2.DATETIME)),
        (primitive(duration=duration_pb2.Duration(seconds=1)), LiteralType(simple=types_pb2.DURATION)),
    ],
    ids=["integer", "float", "string", "boolean", "datetime", "duration"],
)
def test_primitives_infer_their_simple_type(literal: Literal, expected: LiteralType) -> None:
    assert literal_type_of(literal) == expected


def test_none_infers_none() -> None:
    assert literal_type_of(of(literals_pb2.Scalar(none_type=literals_pb2.Void()))) == NONE


def test_blob_infers_its_metadata_type() -> None:
    blob_type = types_pb2.BlobType(format="csv", dimensionality=types_pb2.BlobType.MULTIPART)
    literal = of(
        literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/k", metadata=literals_pb2.BlobMetadata(type=blob_type)))
    )
    assert literal_type_of(literal) == LiteralType(blob=blob_type)


def test_msgpack_binary_infers_struct() -> None:
    literal = of(literals_pb2.Scalar(binary=literals_pb2.Binary(value=b"\x81\xa1x\x01", tag="msgpack")))
    assert literal_type_of(literal) == STRUCT


def test_untagged_binary_infers_binary() -> None:
    literal = of(literals_pb2.Scalar(binary=literals_pb2.Binary(value=b"raw")))
    assert literal_type_of(literal) == LiteralType(simple=types_pb2.BINARY)


def test_schema_infers_its_schema_type() -> None:
    schema_type = types_pb2.SchemaType(
        columns=[types_pb2.SchemaType.SchemaColumn(name="a", type=types_pb2.SchemaType.SchemaColumn.FLOAT)]
    )
    literal = of(literals_pb2.Scalar(schema=literals_pb2.Schema(uri="s3://x", type=schema_type)))
    assert literal_type_of(literal) == LiteralType(schema=schema_type)


def test_structured_dataset_infers_its_metadata_type() -> None:
    dataset_type = types_pb2.StructuredDatasetType(format="parquet")
    literal = of(
        literals_pb2.Scalar(
            structured_dataset=literals_pb2.StructuredDataset(
                uri="s3://x",
                metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=dataset_type),
            )
        )
    )
    assert literal_type_of(literal) == LiteralType(structured_dataset_type=dataset_type)


def test_structured_dataset_without_metadata_infers_an_empty_dataset_type() -> None:
    literal = of(literals_pb2.Scalar(structured_dataset=literals_pb2.StructuredDataset(uri="s3://x")))
    assert literal_type_of(literal) == LiteralType(structured_dataset_type=types_pb2.StructuredDatasetType())


def test_error_infers_error() -> None:
    literal = of(literals_pb2.Scalar(error=types_pb2.Error(message="boom")))
    assert literal_type_of(literal) == LiteralType(simple=types_pb2.ERROR)


def test_generic_infers_struct() -> None:
    generic = struct_pb2.Struct()
    generic.update({"a": 1})
    assert literal_type_of(of(literals_pb2.Scalar(generic=generic))) == STRUCT


def test_union_infers_a_single_variant_union_of_its_type() -> None:
    literal = of(literals_pb2.Scalar(union=literals_pb2.Union(value=primitive(integer=1), type=INT)))
    assert literal_type_of(literal) == union(INT)


def test_empty_collection_infers_list_of_none() -> None:
    assert literal_type_of(items()) == list_of(NONE)


def test_homogeneous_collection_infers_its_element_type() -> None:
    assert literal_type_of(items(primitive(integer=1), primitive(integer=2))) == list_of(INT)


def test_heterogeneous_collection_infers_a_sorted_union() -> None:
    inferred = literal_type_of(items(primitive(string_value="a"), primitive(integer=1), primitive(string_value="b")))
    assert inferred == list_of(union(INT, STR))


def test_empty_inner_list_does_not_widen_the_element_type() -> None:
    inferred = literal_type_of(items(items(primitive(integer=1)), items()))
    assert inferred == list_of(list_of(INT))


def test_map_infers_its_value_type() -> None:
    assert literal_type_of(mapping(a=primitive(integer=1), b=primitive(integer=2))) == map_of(INT)


def test_empty_map_infers_map_of_none() -> None:
    assert literal_type_of(mapping()) == map_of(NONE)


def test_offloaded_literal_infers_its_recorded_type() -> None:
    literal = Literal(
        offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(uri="s3://x", inferred_type=list_of(INT))
    )
    assert literal_type_of(literal) == list_of(INT)


def test_literal_without_value_is_rejected() -> None:
    with pytest.raises(InvalidArgument):
        literal_type_of(Literal())


def test_matching_literal_validates() -> None:
    validate_literal(of(integer(3)), INT, name="x")


def test_none_validates_against_an_optional() -> None:
    validate_literal(of(literals_pb2.Scalar(none_type=literals_pb2.Void())), optional(INT), name="x")


def test_empty_list_validates_against_any_list() -> None:
    validate_literal(items(), list_of(STR), name="xs")


def test_wrong_literal_type_names_the_variable() -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_literal(of(string("a")), INT, name="x")
    assert raised.value.field == "x"
    assert raised.value.message.startswith("invalid x input wrong type. Expected simple: INTEGER, but got")


def test_malformed_inferred_type_is_rejected() -> None:
    literal = Literal(offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(inferred_type=list_of(LiteralType())))
    with pytest.raises(InvalidArgument) as raised:
        validate_literal(literal, list_of(INT), name="xs")
    assert "Failed to validate literal type for [xs]" in raised.value.message
