"""Castability (§1.12): which upstream types may flow into which downstream variables."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from flyteidl_py.core import types_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler import is_castable, validate_literal_type
from tests.unit.propeller.compiler.builders import (
    BOOL,
    FLOAT,
    INT,
    NONE,
    STR,
    STRUCT,
    LiteralType,
    enum,
    list_of,
    map_of,
    optional,
    union,
)

MULTIPART = types_pb2.BlobType.MULTIPART


def blob(fmt: str = "", dimensionality: int = types_pb2.BlobType.SINGLE) -> LiteralType:
    return LiteralType(blob=types_pb2.BlobType(format=fmt, dimensionality=dimensionality))


def schema(**columns: int) -> LiteralType:
    return LiteralType(
        schema=types_pb2.SchemaType(
            columns=[types_pb2.SchemaType.SchemaColumn(name=n, type=t) for n, t in columns.items()]
        )
    )


def dataset(fmt: str = "", **columns: LiteralType) -> LiteralType:
    return LiteralType(
        structured_dataset_type=types_pb2.StructuredDatasetType(
            format=fmt,
            columns=[types_pb2.StructuredDatasetType.DatasetColumn(name=n, literal_type=t) for n, t in columns.items()],
        )
    )


def tagged(literal_type: LiteralType, tag: str) -> LiteralType:
    result = LiteralType()
    result.CopyFrom(literal_type)
    result.structure.tag = tag
    return result


def json_schema(properties: dict[str, str], required: list[str], title: str = "Point") -> struct_pb2.Struct:
    metadata = struct_pb2.Struct()
    metadata.update(
        {
            "title": title,
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"type": kind} for name, kind in properties.items()},
            "required": required,
        }
    )
    return metadata


def dataclass(properties: dict[str, str], required: list[str] | None = None, title: str = "Point") -> LiteralType:
    return LiteralType(
        simple=types_pb2.STRUCT,
        metadata=json_schema(properties, list(properties) if required is None else required, title),
    )


SCHEMA_INT = types_pb2.SchemaType.SchemaColumn.INTEGER
SCHEMA_STR = types_pb2.SchemaType.SchemaColumn.STRING
POINT = dataclass({"x": "integer", "y": "number"})

CASES: list[tuple[str, LiteralType, LiteralType, bool]] = [
    # simple types
    ("int to int", INT, INT, True),
    ("int to float", INT, FLOAT, False),
    ("float to int", FLOAT, INT, False),
    ("bool to string", BOOL, STR, False),
    (
        "annotation and metadata are ignored",
        LiteralType(simple=types_pb2.INTEGER, metadata=json_schema({}, [])),
        INT,
        True,
    ),
    ("differing structure tag is rejected", tagged(INT, "a"), tagged(INT, "b"), False),
    ("untagged upstream ignores the downstream tag", INT, tagged(INT, "a"), True),
    # none
    ("none to none", NONE, NONE, True),
    ("int to none", INT, NONE, False),
    ("none to int", NONE, INT, False),
    ("none to optional", NONE, optional(INT), True),
    # collections
    ("list to list", list_of(INT), list_of(INT), True),
    ("empty list to any list", list_of(NONE), list_of(STR), True),
    ("list element mismatch", list_of(INT), list_of(STR), False),
    ("scalar to list", INT, list_of(INT), False),
    ("nested lists", list_of(list_of(INT)), list_of(list_of(INT)), True),
    # maps
    ("map to map", map_of(INT), map_of(INT), True),
    ("empty map to any map", map_of(NONE), map_of(INT), True),
    ("map value mismatch", map_of(STR), map_of(INT), False),
    ("list to map", list_of(INT), map_of(INT), False),
    # blobs
    ("blob without format to csv", blob(), blob("csv"), True),
    ("csv blob to blob without format", blob("csv"), blob(), True),
    ("same blob format", blob("csv"), blob("csv"), True),
    ("different blob formats", blob("csv"), blob("parquet"), False),
    ("blob format is case sensitive", blob("CSV"), blob("csv"), False),
    ("blob dimensionality is not compared", blob(), blob(dimensionality=MULTIPART), True),
    ("int to blob", INT, blob(), False),
    # schemas
    ("schema without columns", schema(), schema(a=SCHEMA_INT), True),
    ("schema column subset", schema(a=SCHEMA_INT, b=SCHEMA_STR), schema(a=SCHEMA_INT), True),
    ("schema missing column", schema(a=SCHEMA_INT), schema(b=SCHEMA_INT), False),
    ("schema column type mismatch", schema(a=SCHEMA_INT), schema(a=SCHEMA_STR), False),
    ("parquet dataset to schema", dataset("parquet"), schema(a=SCHEMA_INT), True),
    ("csv dataset to schema", dataset("csv"), schema(), False),
    ("dataset columns to schema columns", dataset("", a=INT, b=STR), schema(a=SCHEMA_INT), True),
    ("dataset column type mismatch to schema", dataset("", a=STR), schema(a=SCHEMA_INT), False),
    # structured datasets
    ("none to structured dataset", NONE, dataset("parquet"), True),
    ("dataset formats compare case-insensitively", dataset("parquet"), dataset("PARQUET"), True),
    ("different dataset formats", dataset("csv"), dataset("parquet"), False),
    ("dataset without format to csv", dataset(""), dataset("csv"), True),
    ("dataset column subset", dataset("", a=INT, b=STR), dataset("", a=INT), True),
    ("dataset missing column", dataset("", a=INT), dataset("", b=INT), False),
    ("dataset column types castable", dataset("", a=list_of(NONE)), dataset("", a=list_of(INT)), True),
    ("dataset column types not castable", dataset("", a=STR), dataset("", a=INT), False),
    ("schema to dataset without format", schema(a=SCHEMA_INT), dataset("", a=INT), True),
    ("schema to csv dataset", schema(), dataset("csv"), False),
    ("int to dataset", INT, dataset(), False),
    # unions
    ("int to union with int", INT, union(INT, STR), True),
    ("ambiguous union variant", INT, union(INT, tagged(INT, "x")), False),
    ("no union variant fits", FLOAT, union(INT, STR), False),
    ("union to wider union", optional(INT), union(INT, STR, NONE), True),
    ("union to narrower union", union(INT, FLOAT), union(INT), False),
    ("single-variant union to its variant", union(INT), INT, True),
    ("optional to plain type", optional(INT), INT, False),
    # enums
    ("enum to identical enum", enum("a", "b"), enum("a", "b"), True),
    ("enum to different enum", enum("a", "b"), enum("a", "c"), False),
    ("string to enum", STR, enum("a"), True),
    ("enum to string", enum("a"), STR, True),
    ("int to enum", INT, enum("a"), False),
    # structs
    ("struct to struct", STRUCT, STRUCT, True),
    ("generic struct to dataclass", STRUCT, POINT, True),
    ("dataclass to generic struct", POINT, STRUCT, True),
    ("identical dataclass schemas", POINT, dataclass({"x": "integer", "y": "number"}), True),
    ("dataclass with extra fields", dataclass({"x": "integer", "y": "number", "z": "string"}), POINT, True),
    ("dataclass missing a field", dataclass({"x": "integer"}), POINT, False),
    ("dataclass field type differs", dataclass({"x": "string", "y": "number"}), POINT, False),
    (
        "dataclass title is not compared",
        dataclass({"x": "integer", "y": "number"}, title="Other"),
        POINT,
        True,
    ),
    ("int to struct", INT, STRUCT, False),
    # binary
    ("binary to binary", LiteralType(simple=types_pb2.BINARY), LiteralType(simple=types_pb2.BINARY), True),
    ("binary to struct", LiteralType(simple=types_pb2.BINARY), STRUCT, False),
]


@pytest.mark.parametrize(("upstream", "downstream", "castable"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_castability(upstream: LiteralType, downstream: LiteralType, castable: bool) -> None:
    assert is_castable(upstream, downstream) is castable


def test_blob_tagged_as_flyte_file_fits_optional_flyte_file() -> None:
    flyte_file = tagged(blob(), "FlyteFilePath")
    assert is_castable(flyte_file, union(flyte_file, tagged(NONE, "none")))


def test_nested_dataclass_references_are_followed() -> None:
    def nested(inner_type: str) -> LiteralType:
        metadata = struct_pb2.Struct()
        metadata.update(
            {
                "type": "object",
                "properties": {"p": {"$ref": "#/$defs/Inner"}},
                "required": ["p"],
                "$defs": {"Inner": {"type": "object", "properties": {"v": {"type": inner_type}}, "required": ["v"]}},
            }
        )
        return LiteralType(simple=types_pb2.STRUCT, metadata=metadata)

    assert is_castable(nested("integer"), nested("integer"))
    assert not is_castable(nested("string"), nested("integer"))


def test_valid_literal_type_passes_validation() -> None:
    validate_literal_type(list_of(map_of(optional(INT))))


def test_collection_without_element_type_is_malformed() -> None:
    with pytest.raises(InvalidArgument):
        validate_literal_type(LiteralType(collection_type=LiteralType()))


def test_union_with_empty_variant_is_malformed() -> None:
    with pytest.raises(InvalidArgument):
        validate_literal_type(union(INT, LiteralType()))
