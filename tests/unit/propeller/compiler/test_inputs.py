"""Execution inputs against a workflow's inputs (§1.15): names, literal types, castability, completeness."""

from __future__ import annotations

import pytest

from flyteidl_py.core import literals_pb2
from propeller.compiler import CompilationFailed, validate_inputs
from tests.unit.propeller.compiler.builders import INT, LiteralType, integer, list_of, optional, string, variables

EXPECTED = variables({"a": INT, "b": optional(INT)})


def literal_map(**values: literals_pb2.Literal) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(literals=values)


def value(scalar: literals_pb2.Scalar) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=scalar)


NONE_VALUE = value(literals_pb2.Scalar(none_type=literals_pb2.Void()))


def errors_of(inputs: literals_pb2.LiteralMap) -> set[tuple[str, str]]:
    with pytest.raises(CompilationFailed) as raised:
        validate_inputs(inputs, EXPECTED)
    return {(e.code, e.node_id) for e in raised.value.errors}


def test_complete_matching_inputs_validate() -> None:
    validate_inputs(literal_map(a=value(integer(1)), b=NONE_VALUE), EXPECTED)


def test_unknown_input_is_variable_name_not_found() -> None:
    assert ("VariableNameNotFound", "start-node") in errors_of(
        literal_map(a=value(integer(1)), b=NONE_VALUE, c=value(integer(1)))
    )


def test_input_of_the_wrong_type_is_mismatching_types() -> None:
    assert errors_of(literal_map(a=value(string("s")), b=NONE_VALUE)) == {("MismatchingTypes", "start-node")}


def test_malformed_literal_type_is_invalid_literal_type() -> None:
    offloaded = literals_pb2.Literal(
        offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(inferred_type=list_of(LiteralType()))
    )
    assert errors_of(literal_map(a=offloaded, b=NONE_VALUE)) == {("InvalidLiteralType", "start-node")}


def test_missing_input_is_parameter_not_bound_even_when_optional() -> None:
    assert errors_of(literal_map(a=value(integer(1)))) == {("ParameterNotBound", "start-node")}
