"""The type system: whether a value of one LiteralType may flow into a variable of another (castability)."""

from __future__ import annotations

from types import MappingProxyType

from google.protobuf import text_format

from flyteidl_py.core import types_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler.struct_schema import schemas_compatible

LiteralType = types_pb2.LiteralType

_SCHEMA_COLUMN_TO_SIMPLE = MappingProxyType(
    {
        types_pb2.SchemaType.SchemaColumn.INTEGER: types_pb2.INTEGER,
        types_pb2.SchemaType.SchemaColumn.FLOAT: types_pb2.FLOAT,
        types_pb2.SchemaType.SchemaColumn.STRING: types_pb2.STRING,
        types_pb2.SchemaType.SchemaColumn.BOOLEAN: types_pb2.BOOLEAN,
        types_pb2.SchemaType.SchemaColumn.DATETIME: types_pb2.DATETIME,
        types_pb2.SchemaType.SchemaColumn.DURATION: types_pb2.DURATION,
    }
)


def type_str(literal_type: LiteralType) -> str:
    """The one-line text rendering of a type, used in messages and wherever Flyte compares type strings."""
    return text_format.MessageToString(literal_type, as_one_line=True)


def simple(kind: types_pb2.SimpleType) -> LiteralType:
    return LiteralType(simple=kind)


def collection_of(element: LiteralType) -> LiteralType:
    return LiteralType(collection_type=element)


def map_of(value: LiteralType) -> LiteralType:
    return LiteralType(map_value_type=value)


def is_none_type(literal_type: LiteralType) -> bool:
    return literal_type.WhichOneof("type") == "simple" and literal_type.simple == types_pb2.NONE


def is_optional(literal_type: LiteralType) -> bool:
    """A union with a NONE variant (the SDK's `Optional[T]`): such an input may be left unbound."""
    return literal_type.WhichOneof("type") == "union_type" and any(
        is_none_type(variant) for variant in literal_type.union_type.variants
    )


def nested_types(literal_type: LiteralType) -> list[LiteralType]:
    """The types directly inside a list (its element), a map (its value) or a union (its variants); else none."""
    kind = literal_type.WhichOneof("type")
    if kind == "collection_type":
        return [literal_type.collection_type]
    if kind == "map_value_type":
        return [literal_type.map_value_type]
    if kind == "union_type":
        return list(literal_type.union_type.variants)
    return []


def validate_literal_type(literal_type: LiteralType) -> None:
    """Reject malformed types (no kind set, e.g. a collection without element type) with InvalidArgument."""
    if literal_type.WhichOneof("type") is None:
        raise InvalidArgument(f"literal type [{type_str(literal_type)}] has no type set")
    for nested in nested_types(literal_type):
        validate_literal_type(nested)


def is_castable(upstream: LiteralType, downstream: LiteralType) -> bool:
    """Whether a value of type `upstream` may be bound to a variable of type `downstream`.

    The check is chosen by the downstream type. A single-variant union upstream (what a union literal infers
    to) is first tried by its one variant.
    """
    variants = upstream.union_type.variants
    if upstream.WhichOneof("type") == "union_type" and len(variants) == 1 and _casts_from(variants[0], downstream):
        return True
    return _casts_from(upstream, downstream)


def _casts_from(upstream: LiteralType, downstream: LiteralType) -> bool:
    kind = downstream.WhichOneof("type")
    if kind in ("collection_type", "map_value_type"):
        return _container(upstream, downstream)
    if kind == "blob":
        return _blob(upstream, downstream.blob)
    if kind == "schema":
        return _schema(upstream, downstream.schema)
    if kind == "structured_dataset_type":
        return _structured_dataset(upstream, downstream.structured_dataset_type)
    if kind == "union_type":
        return _union(upstream, downstream.union_type)
    if kind == "enum_type":
        return _enum(upstream, downstream.enum_type)
    if kind == "simple":
        if downstream.simple == types_pb2.NONE:
            return is_none_type(upstream)
        if downstream.simple == types_pb2.STRING and upstream.WhichOneof("type") == "enum_type":
            return True
        if downstream.simple == types_pb2.STRUCT:
            return _struct(upstream, downstream)
    return _trivial(upstream, downstream)


def _container(upstream: LiteralType, downstream: LiteralType) -> bool:
    """A list to a list (a map to a map) whose element type the upstream element type casts to."""
    if upstream.WhichOneof("type") != downstream.WhichOneof("type"):
        return False
    [element], [wanted] = nested_types(upstream), nested_types(downstream)
    if is_none_type(element):  # an empty list (map) literal fits any list (map)
        return True
    return is_castable(element, wanted)


def _blob(upstream: LiteralType, downstream: types_pb2.BlobType) -> bool:
    if upstream.WhichOneof("type") != "blob":
        return False
    # Dimensionality (single file vs multipart) is deliberately not compared, as in Flyte.
    up_format, down_format = upstream.blob.format, downstream.format
    return not up_format or not down_format or up_format == down_format


def _schema_columns(schema: types_pb2.SchemaType) -> dict[str, LiteralType | None]:
    """Schema columns as name → simple type (None for a column type this version does not know)."""
    result: dict[str, LiteralType | None] = {}
    for column in schema.columns:
        kind = _SCHEMA_COLUMN_TO_SIMPLE.get(column.type)
        result[column.name] = None if kind is None else simple(kind)
    return result


def _dataset_columns(dataset: types_pb2.StructuredDatasetType) -> dict[str, LiteralType | None]:
    return {column.name: column.literal_type for column in dataset.columns}


def _columns_fit(upstream: dict[str, LiteralType | None], downstream: dict[str, LiteralType | None]) -> bool:
    """Columns fit when either list is empty, or each downstream column exists upstream with a castable type."""
    if not upstream or not downstream:
        return True
    for name, down_type in downstream.items():
        up_type = upstream.get(name)
        if up_type is None or down_type is None or not is_castable(up_type, down_type):
            return False
    return True


def _schema(upstream: LiteralType, downstream: types_pb2.SchemaType) -> bool:
    kind = upstream.WhichOneof("type")
    if kind == "schema":
        return _columns_fit(_schema_columns(upstream.schema), _schema_columns(downstream))
    if kind == "structured_dataset_type":
        dataset = upstream.structured_dataset_type
        if dataset.format and dataset.format.lower() != "parquet":
            return False
        return _columns_fit(_dataset_columns(dataset), _schema_columns(downstream))
    return False


def _structured_dataset(upstream: LiteralType, downstream: types_pb2.StructuredDatasetType) -> bool:
    if is_none_type(upstream):  # structured datasets are nullable
        return True
    kind = upstream.WhichOneof("type")
    if kind == "structured_dataset_type":
        dataset = upstream.structured_dataset_type
        if dataset.format and downstream.format and dataset.format.lower() != downstream.format.lower():
            return False
        return _columns_fit(_dataset_columns(dataset), _dataset_columns(downstream))
    if kind == "schema":
        if downstream.format and downstream.format.lower() != "parquet":
            return False
        return _columns_fit(_schema_columns(upstream.schema), _dataset_columns(downstream))
    return False


def _union(upstream: LiteralType, downstream: types_pb2.UnionType) -> bool:
    if upstream.WhichOneof("type") == "union_type":
        return all(
            any(is_castable(up_variant, down_variant) for down_variant in downstream.variants)
            for up_variant in upstream.union_type.variants
        )
    # Only an unambiguous choice of variant is accepted.
    return sum(1 for variant in downstream.variants if is_castable(upstream, variant)) == 1


def _enum(upstream: LiteralType, downstream: types_pb2.EnumType) -> bool:
    kind = upstream.WhichOneof("type")
    if kind == "simple":
        return upstream.simple == types_pb2.STRING
    if kind == "enum_type":
        return list(upstream.enum_type.values) == list(downstream.values)
    return False


def _struct(upstream: LiteralType, downstream: LiteralType) -> bool:
    if upstream.WhichOneof("type") != "simple" or upstream.simple != types_pb2.STRUCT:
        return False
    # Without a JSON schema on both sides (generic dicts, older SDKs) any struct is accepted.
    if not upstream.HasField("metadata") or not downstream.HasField("metadata"):
        return True
    return schemas_compatible(upstream.metadata, downstream.metadata)


def _trivial(upstream: LiteralType, downstream: LiteralType) -> bool:
    up_tag = upstream.structure.tag
    if up_tag and up_tag != downstream.structure.tag:
        return False
    return _bare(upstream) == _bare(downstream)


def _bare(literal_type: LiteralType) -> LiteralType:
    """The type without the fields that never take part in equality: metadata, structure, annotation."""
    bare = LiteralType()
    bare.CopyFrom(literal_type)
    bare.ClearField("metadata")
    bare.ClearField("structure")
    bare.ClearField("annotation")
    return bare
