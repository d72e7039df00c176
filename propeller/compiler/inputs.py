"""Execution inputs against a workflow's input variables, as checked before a workflow is run (§1.15)."""

from __future__ import annotations

from flyteidl_py.core import interface_pb2, literals_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler.errors import CompilationFailed, CompileError, ErrorCode
from propeller.compiler.ids import START_NODE
from propeller.compiler.literals import checked_literal_type
from propeller.compiler.types import is_castable, type_str


def validate_inputs(inputs: literals_pb2.LiteralMap, expected: interface_pb2.VariableMap) -> None:
    """Every literal must name an input and fit its type, and every input must be given.

    Unlike launch-plan validation nothing is optional here: defaults have already been filled in.
    Raises CompilationFailed (VariableNameNotFound, InvalidLiteralType, MismatchingTypes, ParameterNotBound).
    """
    errors: list[CompileError] = []
    for name in sorted(inputs.literals):
        variable = expected.variables.get(name)
        if variable is None:
            errors.append(CompileError(ErrorCode.VARIABLE_NAME_NOT_FOUND, START_NODE, f"Variable [{name}] not found."))
            continue
        try:
            found = checked_literal_type(inputs.literals[name])
        except InvalidArgument as exc:
            errors.append(
                CompileError(
                    ErrorCode.INVALID_LITERAL_TYPE,
                    START_NODE,
                    f"Invalid literal type for [{name}]: {exc.message}",
                )
            )
            continue
        if not is_castable(found, variable.type):
            errors.append(
                CompileError(
                    ErrorCode.MISMATCHING_TYPES,
                    START_NODE,
                    f"Variable [{name}] (type [{type_str(found)}]) doesn't match expected type "
                    f"[{type_str(variable.type)}].",
                )
            )
    for name in sorted(set(expected.variables) - set(inputs.literals)):
        errors.append(CompileError(ErrorCode.PARAMETER_NOT_BOUND, START_NODE, f"Parameter not bound [{name}]."))
    if errors:
        raise CompilationFailed(errors)
