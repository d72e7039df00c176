"""Literals as plain Python values, so tests can state expected inputs and outputs readably."""

from __future__ import annotations

from typing import Any

from flyteidl_py.core import literals_pb2


def plain(literal: literals_pb2.Literal) -> Any:
    """int/float/str/bool, list, dict, None; a blob becomes its URI and a union its value."""
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return [plain(item) for item in literal.collection.literals]
    if kind == "map":
        return {key: plain(item) for key, item in literal.map.literals.items()}
    if kind != "scalar":
        raise ValueError(f"no plain form for a literal holding {kind}")
    scalar = literal.scalar
    which = scalar.WhichOneof("value")
    if which == "primitive":
        primitive = scalar.primitive
        return getattr(primitive, primitive.WhichOneof("value"))
    if which == "none_type":
        return None
    if which == "blob":
        return scalar.blob.uri
    if which == "union":
        return plain(scalar.union.value)
    raise ValueError(f"no plain form for a scalar holding {which}")


def plain_map(literal_map: literals_pb2.LiteralMap) -> dict[str, Any]:
    return {name: plain(literal) for name, literal in literal_map.literals.items()}
