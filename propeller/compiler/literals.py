"""Literal → LiteralType inference, and validation of a literal against the type a variable expects."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from flyteidl_py.core import literals_pb2, types_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler.types import LiteralType, is_castable, simple, type_str, validate_literal_type

MSGPACK_TAG = "msgpack"

_PRIMITIVE_TYPES = MappingProxyType(
    {
        "integer": types_pb2.INTEGER,
        "float_value": types_pb2.FLOAT,
        "string_value": types_pb2.STRING,
        "boolean": types_pb2.BOOLEAN,
        "datetime": types_pb2.DATETIME,
        "duration": types_pb2.DURATION,
    }
)


def primitive_type(primitive: literals_pb2.Primitive) -> LiteralType:
    """The simple type of a primitive; an unset primitive is NONE."""
    return simple(_PRIMITIVE_TYPES.get(primitive.WhichOneof("value") or "", types_pb2.NONE))


def scalar_type(scalar: literals_pb2.Scalar) -> LiteralType | None:
    """The type a scalar literal carries, or None for a scalar with no value set."""
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return primitive_type(scalar.primitive)
    if kind == "blob":
        return LiteralType(blob=scalar.blob.metadata.type)
    if kind == "binary":
        # msgpack-tagged binaries are the SDK's dataclasses/dicts/pydantic models: structured, not bytes.
        return simple(types_pb2.STRUCT if scalar.binary.tag == MSGPACK_TAG else types_pb2.BINARY)
    if kind == "schema":
        return LiteralType(schema=scalar.schema.type)
    if kind == "structured_dataset":
        return LiteralType(structured_dataset_type=scalar.structured_dataset.metadata.structured_dataset_type)
    if kind == "none_type":
        return simple(types_pb2.NONE)
    if kind == "error":
        return simple(types_pb2.ERROR)
    if kind == "generic":
        return simple(types_pb2.STRUCT)
    if kind == "union":
        # A union literal carries the variant it holds; as a type it is a one-variant union.
        return LiteralType(union_type=types_pb2.UnionType(variants=[scalar.union.type]))
    return None


def checked_literal_type(literal: literals_pb2.Literal) -> LiteralType:
    """The literal's inferred type, checked to be well formed; InvalidArgument when it has no value or the
    type is malformed."""
    found = infer_literal_type(literal)
    if found is None:
        raise InvalidArgument("literal has no value set")
    validate_literal_type(found)
    return found


def infer_literal_type(literal: literals_pb2.Literal) -> LiteralType | None:
    """The inferred type of a literal, or None when some part of it has no value set."""
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return scalar_type(literal.scalar)
    if kind == "collection":
        element = combine_element_types(literal.collection.literals)
        return None if element is None else LiteralType(collection_type=element)
    if kind == "map":
        value = combine_element_types(literal.map.literals.values())
        return None if value is None else LiteralType(map_value_type=value)
    if kind == "offloaded_metadata":
        return literal.offloaded_metadata.inferred_type
    return None


def combine_element_types(elements: Iterable[literals_pb2.Literal]) -> LiteralType | None:
    """The element type of a list (or value type of a map) from its members.

    No members → NONE; one distinct type → that type; several → a union of them sorted by their text form.
    An empty nested list counts only when nothing else is there, so `[[1], []]` is a list of int lists.
    """
    distinct: dict[str, LiteralType] = {}
    empty_list_type: LiteralType | None = None
    for element in elements:
        element_type = infer_literal_type(element)
        if element_type is None:
            return None
        if element.WhichOneof("value") == "collection" and not element.collection.literals:
            empty_list_type = element_type
            continue
        distinct.setdefault(type_str(element_type), element_type)
    return union_of_distinct(distinct, empty_list_type)


def union_of_distinct(distinct: dict[str, LiteralType], fallback: LiteralType | None) -> LiteralType:
    """One type when there is one, a sorted union when several, `fallback` or NONE when there are none."""
    if not distinct:
        return fallback if fallback is not None else simple(types_pb2.NONE)
    if len(distinct) == 1:
        return next(iter(distinct.values()))
    return LiteralType(union_type=types_pb2.UnionType(variants=[distinct[key] for key in sorted(distinct)]))


def literal_type_of(literal: literals_pb2.Literal) -> LiteralType:
    """The LiteralType Flyte infers for a literal; InvalidArgument when the literal (or a member) is empty."""
    inferred = infer_literal_type(literal)
    if inferred is None:
        raise InvalidArgument("literal has no value set")
    return inferred


def validate_literal(literal: literals_pb2.Literal, expected: LiteralType, *, name: str = "") -> None:
    """Check that `literal` may be bound to a variable `name` of type `expected`; InvalidArgument if not."""
    try:
        inferred = checked_literal_type(literal)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"Failed to validate literal type for [{name}] with err: {exc.message}", field=name or None
        ) from exc
    if not is_castable(inferred, expected):
        raise InvalidArgument(
            f"invalid {name} input wrong type. Expected {type_str(expected)}, but got {type_str(inferred)}",
            field=name or None,
        )
