"""Branch evaluation: which case of an if-else block runs, given the branch node's resolved inputs.

Flytepropeller's `branch/evaluator.go` and `comparator.go`. Operands are primitives, branch-input variables
(flytekit names them `<node id>.<output>`, so a workflow input `n` is the variable ".n", bound on the branch
node as `.n <- promise("", "n")`; they are looked up verbatim in the inputs) or a scalar. An operand with
no value, or flytekit's `Operand(scalar=none_type)` for `x.is_none()`, is None; None equals only None
(EQ/NEQ only). Variables holding a union (flytekit's Optional) are unwrapped to the value inside.
"""

from __future__ import annotations

from flyteidl_py.core import condition_pb2, literals_pb2, workflow_pb2
from propeller.data.errors import MALFORMED_BRANCH, USER_PROVIDED_ERROR, BranchUserError

_OPERATOR = condition_pb2.ComparisonExpression.Operator
_EQ = condition_pb2.ComparisonExpression.EQ
_NEQ = condition_pb2.ComparisonExpression.NEQ
_GT = condition_pb2.ComparisonExpression.GT
_GTE = condition_pb2.ComparisonExpression.GTE
_LT = condition_pb2.ComparisonExpression.LT
_LTE = condition_pb2.ComparisonExpression.LTE


def select_branch(if_else: workflow_pb2.IfElseBlock, inputs: literals_pb2.LiteralMap) -> workflow_pb2.Node:
    """The node to run: the first case (`case`, then each of `other`) whose condition holds, else `else_node`.

    Conditions after the chosen case are not evaluated. Raises BranchUserError: "UserProvidedError" with the
    `error` message when no case holds and the block ends in an error, "MalformedBranchUserError" when no
    case holds and there is no default, or when a condition cannot be evaluated.
    """
    for block in [if_else.case, *if_else.other]:
        if evaluate(block.condition, inputs):
            if not block.HasField("then_node"):
                raise BranchUserError(MALFORMED_BRANCH, "Branch case has no then node.")
            return block.then_node
    default = if_else.WhichOneof("default")
    if default == "else_node":
        return if_else.else_node
    if default == "error":
        raise BranchUserError(USER_PROVIDED_ERROR, if_else.error.message)
    raise BranchUserError(MALFORMED_BRANCH, "No branch satisfied")


def evaluate(expression: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap) -> bool:
    """The truth of a condition. Both sides of a conjunction are evaluated (errors included), then combined."""
    kind = expression.WhichOneof("expr")
    if kind == "comparison":
        return _compare(expression.comparison, inputs)
    if kind != "conjunction":
        raise BranchUserError(MALFORMED_BRANCH, "No Comparison or Conjunction found in Branch node expression.")
    conjunction = expression.conjunction
    left = evaluate(conjunction.left_expression, inputs)
    right = evaluate(conjunction.right_expression, inputs)
    if conjunction.operator == condition_pb2.ConjunctionExpression.OR:
        return left or right
    return left and right


def _compare(comparison: condition_pb2.ComparisonExpression, inputs: literals_pb2.LiteralMap) -> bool:
    left = _operand(comparison.left_value, inputs, "LHS")
    right = _operand(comparison.right_value, inputs, "RHS")
    operator = comparison.operator
    if left is None or right is None:
        if operator == _EQ:
            return left is None and right is None
        if operator == _NEQ:
            return not (left is None and right is None)
        raise BranchUserError(
            MALFORMED_BRANCH,
            f"Comparison between nil and non-nil values with operator [{_op_name(operator)}] is not supported.",
        )
    left_kind, right_kind = left.WhichOneof("value"), right.WhichOneof("value")
    if left_kind != right_kind:
        raise BranchUserError(
            MALFORMED_BRANCH, f"Comparison between different primitives types. lVal[{left_kind}]:rVal[{right_kind}]"
        )
    if left_kind == "boolean" and operator not in (_EQ, _NEQ):
        raise BranchUserError(MALFORMED_BRANCH, f"[{_op_name(operator)}] not defined for boolean operands.")
    # Flyte derives every operator from > and ==; keep its formulas (they differ from Python's for NaN).
    greater, equal = _order(left, right, left_kind)
    if operator == _EQ:
        return equal
    if operator == _NEQ:
        return not equal
    if operator == _GT:
        return greater
    if operator == _GTE:
        return equal or greater
    if operator == _LT:
        return not (greater or equal)
    if operator == _LTE:
        return not greater
    raise BranchUserError(MALFORMED_BRANCH, "Unsupported operator type in Propeller. System error.")


def _order(left: literals_pb2.Primitive, right: literals_pb2.Primitive, kind: str | None) -> tuple[bool, bool]:
    """(left > right, left == right) for two primitives of the same kind."""
    if kind == "integer":
        return left.integer > right.integer, left.integer == right.integer
    if kind == "float_value":
        return left.float_value > right.float_value, left.float_value == right.float_value
    if kind == "string_value":
        return left.string_value > right.string_value, left.string_value == right.string_value
    if kind == "boolean":
        return False, left.boolean == right.boolean
    # Datetimes and durations compare by whole seconds only, as in Flyte.
    if kind == "datetime":
        return left.datetime.seconds > right.datetime.seconds, left.datetime.seconds == right.datetime.seconds
    if kind == "duration":
        return left.duration.seconds > right.duration.seconds, left.duration.seconds == right.duration.seconds
    raise BranchUserError(MALFORMED_BRANCH, f"Comparator not defined for primitive kind [{kind}].")


def _operand(
    operand: condition_pb2.Operand, inputs: literals_pb2.LiteralMap, side: str
) -> literals_pb2.Primitive | None:
    """The primitive an operand denotes, or None for a NONE value."""
    kind = operand.WhichOneof("val")
    if kind == "primitive":
        return operand.primitive
    if kind == "var" and operand.var:
        if operand.var not in inputs.literals:
            raise BranchUserError(MALFORMED_BRANCH, f"Failed to find Value for Variable [{operand.var}]")
        return _literal_primitive(inputs.literals[operand.var], f"{side} Variable [{operand.var}]")
    if kind == "scalar":
        return _scalar_primitive(operand.scalar, f"{side} operand")
    # No value, or an empty variable name: Flyte reads both as None.
    return None


def _literal_primitive(literal: literals_pb2.Literal, what: str) -> literals_pb2.Primitive | None:
    if literal.WhichOneof("value") != "scalar":
        raise BranchUserError(MALFORMED_BRANCH, f"Only primitives can be compared. {what} is non primitive.")
    return _scalar_primitive(literal.scalar, what)


def _scalar_primitive(scalar: literals_pb2.Scalar, what: str) -> literals_pb2.Primitive | None:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return scalar.primitive
    if kind == "none_type":
        return None
    if kind == "union":
        return _literal_primitive(scalar.union.value, what)
    raise BranchUserError(MALFORMED_BRANCH, f"Only primitives can be compared. {what} is non primitive.")


def _op_name(operator: int) -> str:
    return _OPERATOR.Name(operator) if operator in _OPERATOR.values() else str(operator)
