"""Branch evaluation (§3.11.4): the comparison and conjunction table, case order, else and else-fail."""

from __future__ import annotations

from typing import cast

import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from flyteidl_py.core import condition_pb2, literals_pb2, types_pb2, workflow_pb2
from propeller.data import BranchUserError, resolve_bindings, select_branch
from propeller.data.branch import evaluate
from tests.unit.propeller.compiler.builders import INT, NONE, union
from tests.unit.propeller.compiler.packages import load
from tests.unit.propeller.data.support import OutputStore, int_literal, list_literal, outputs

Op = condition_pb2.ComparisonExpression
EQ, NEQ, GT, GTE, LT, LTE = Op.EQ, Op.NEQ, Op.GT, Op.GTE, Op.LT, Op.LTE
AND, OR = condition_pb2.ConjunctionExpression.AND, condition_pb2.ConjunctionExpression.OR
Operator = condition_pb2.ComparisonExpression.Operator
Logical = condition_pb2.ConjunctionExpression.LogicalOperator


def prim(value: object) -> literals_pb2.Primitive:
    if isinstance(value, bool):
        return literals_pb2.Primitive(boolean=value)
    if isinstance(value, int):
        return literals_pb2.Primitive(integer=value)
    if isinstance(value, float):
        return literals_pb2.Primitive(float_value=value)
    if isinstance(value, str):
        return literals_pb2.Primitive(string_value=value)
    if isinstance(value, timestamp_pb2.Timestamp):
        return literals_pb2.Primitive(datetime=value)
    assert isinstance(value, duration_pb2.Duration)
    return literals_pb2.Primitive(duration=value)


def lit(value: object) -> condition_pb2.Operand:
    return condition_pb2.Operand(primitive=prim(value))


def var(name: str) -> condition_pb2.Operand:
    return condition_pb2.Operand(var=name)


NONE_OPERAND = condition_pb2.Operand(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))


def compare(left: condition_pb2.Operand, op: Operator, right: condition_pb2.Operand) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(operator=op, left_value=left, right_value=right)
    )


def conj(
    left: condition_pb2.BooleanExpression, op: Logical, right: condition_pb2.BooleanExpression
) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        conjunction=condition_pb2.ConjunctionExpression(operator=op, left_expression=left, right_expression=right)
    )


TRUE = compare(lit(1), EQ, lit(1))
FALSE = compare(lit(1), EQ, lit(2))
BROKEN = compare(lit(1), EQ, lit(1.0))  # int against float: an evaluation error
NO_INPUTS = literals_pb2.LiteralMap()


def node(node_id: str) -> workflow_pb2.Node:
    return workflow_pb2.Node(id=node_id)


def block(condition: condition_pb2.BooleanExpression, then: str) -> workflow_pb2.IfBlock:
    return workflow_pb2.IfBlock(condition=condition, then_node=node(then))


def if_else(
    case: workflow_pb2.IfBlock,
    *others: workflow_pb2.IfBlock,
    else_node: str | None = None,
    error: str | None = None,
) -> workflow_pb2.IfElseBlock:
    result = workflow_pb2.IfElseBlock(case=case, other=others)
    if else_node is not None:
        result.else_node.CopyFrom(node(else_node))
    if error is not None:
        result.error.CopyFrom(types_pb2.Error(failed_node_id="n9", message=error))
    return result


def branch_error(expression: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap = NO_INPUTS) -> str:
    with pytest.raises(BranchUserError) as raised:
        evaluate(expression, inputs)
    return raised.value.code


def ts(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def dur(seconds: int, nanos: int = 0) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds, nanos=nanos)


# (smaller, larger) pairs of every ordered primitive kind.
ORDERED = {
    "integer": (1, 2),
    "float": (1.5, 2.5),
    "string": ("apple", "banana"),
    "datetime": (ts(100), ts(200)),
    "duration": (dur(5), dur(9)),
}
# operator → (result for a<b, result for a==b, result for a>b)
TABLE = {
    EQ: (False, True, False),
    NEQ: (True, False, True),
    GT: (False, False, True),
    GTE: (False, True, True),
    LT: (True, False, False),
    LTE: (True, True, False),
}


@pytest.mark.parametrize("kind", list(ORDERED))
@pytest.mark.parametrize("op", list(TABLE), ids=[Op.Operator.Name(op) for op in TABLE])
def test_ordered_primitives_compare_per_operator(kind: str, op: Operator) -> None:
    small, large = ORDERED[kind]
    less, equal, greater = TABLE[op]

    assert evaluate(compare(lit(small), op, lit(large)), NO_INPUTS) is less
    assert evaluate(compare(lit(small), op, lit(small)), NO_INPUTS) is equal
    assert evaluate(compare(lit(large), op, lit(small)), NO_INPUTS) is greater


@pytest.mark.parametrize(("op", "expected"), [(EQ, (True, False)), (NEQ, (False, True))])
def test_booleans_compare_for_equality(op: Operator, expected: tuple[bool, bool]) -> None:
    assert evaluate(compare(lit(True), op, lit(True)), NO_INPUTS) is expected[0]
    assert evaluate(compare(lit(True), op, lit(False)), NO_INPUTS) is expected[1]


@pytest.mark.parametrize("op", [GT, GTE, LT, LTE], ids=["GT", "GTE", "LT", "LTE"])
def test_booleans_have_no_order(op: Operator) -> None:
    assert branch_error(compare(lit(True), op, lit(False))) == "MalformedBranchUserError"


def test_strings_compare_lexicographically() -> None:
    assert evaluate(compare(lit("b"), GT, lit("abc")), NO_INPUTS)


def test_datetimes_compare_by_whole_seconds() -> None:
    assert evaluate(compare(lit(ts(100, 1)), EQ, lit(ts(100, 999))), NO_INPUTS)


def test_durations_compare_by_whole_seconds() -> None:
    assert not evaluate(compare(lit(dur(3, 900)), GT, lit(dur(3, 1))), NO_INPUTS)


def test_nan_is_less_than_everything_by_flytes_formulas() -> None:
    nan = float("nan")

    assert evaluate(compare(lit(nan), LT, lit(1.0)), NO_INPUTS)
    assert evaluate(compare(lit(nan), LTE, lit(1.0)), NO_INPUTS)
    assert not evaluate(compare(lit(nan), GTE, lit(1.0)), NO_INPUTS)


def test_integer_against_float_is_malformed() -> None:
    assert branch_error(compare(lit(1), LT, lit(2.0))) == "MalformedBranchUserError"


def test_integer_against_string_is_malformed() -> None:
    assert branch_error(compare(lit(1), EQ, lit("1"))) == "MalformedBranchUserError"


def test_unknown_operator_is_malformed() -> None:
    assert branch_error(compare(lit(1), cast("Operator", 42), lit(1))) == "MalformedBranchUserError"


def test_variable_operand_reads_the_branch_input() -> None:
    inputs = outputs(x=int_literal(5))

    assert evaluate(compare(var("x"), GT, lit(3)), inputs)
    assert evaluate(compare(lit(3), LT, var("x")), inputs)


def test_two_variables_compare_with_each_other() -> None:
    inputs = outputs(a=int_literal(5), b=int_literal(4))

    assert evaluate(compare(var("a"), GT, var("b")), inputs)


def test_flytekit_dotted_variable_name_is_looked_up_verbatim() -> None:
    assert evaluate(compare(var(".n"), GT, lit(3)), outputs(**{".n": int_literal(5)}))


def test_missing_variable_is_malformed() -> None:
    assert branch_error(compare(var("x"), EQ, lit(1))) == "MalformedBranchUserError"


def test_non_primitive_variable_is_malformed() -> None:
    inputs = outputs(xs=list_literal(int_literal(1)))

    assert branch_error(compare(var("xs"), EQ, lit(1)), inputs) == "MalformedBranchUserError"


def test_non_primitive_scalar_variable_is_malformed() -> None:
    blob = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/f")))

    assert branch_error(compare(var("f"), EQ, lit(1)), outputs(f=blob)) == "MalformedBranchUserError"


def union_literal(value: literals_pb2.Literal, stored: types_pb2.LiteralType) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(union=literals_pb2.Union(value=value, type=stored)))


NONE_VALUE = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))


def test_optional_variable_holding_a_value_is_unwrapped() -> None:
    inputs = outputs(x=union_literal(int_literal(5), INT))

    assert evaluate(compare(var("x"), EQ, lit(5)), inputs)


def test_is_none_holds_for_an_optional_holding_none() -> None:
    inputs = outputs(x=union_literal(NONE_VALUE, union(INT, NONE)))

    assert evaluate(compare(var("x"), EQ, NONE_OPERAND), inputs)


def test_is_none_fails_for_an_optional_holding_a_value() -> None:
    inputs = outputs(x=union_literal(int_literal(5), INT))

    assert not evaluate(compare(var("x"), EQ, NONE_OPERAND), inputs)


def test_is_none_holds_for_a_plain_none_input() -> None:
    assert evaluate(compare(var("x"), EQ, NONE_OPERAND), outputs(x=NONE_VALUE))


def test_none_is_unequal_to_a_value() -> None:
    assert evaluate(compare(lit(1), NEQ, NONE_OPERAND), NO_INPUTS)


def test_operand_without_a_value_is_none() -> None:
    assert evaluate(compare(condition_pb2.Operand(), EQ, condition_pb2.Operand()), NO_INPUTS)


def test_none_has_no_order() -> None:
    assert branch_error(compare(NONE_OPERAND, GTE, NONE_OPERAND)) == "MalformedBranchUserError"


def test_scalar_operand_holding_a_primitive_compares_as_that_primitive() -> None:
    operand = condition_pb2.Operand(scalar=literals_pb2.Scalar(primitive=prim(2)))

    assert evaluate(compare(operand, GT, lit(1)), NO_INPUTS)


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        (TRUE, AND, TRUE, True),
        (TRUE, AND, FALSE, False),
        (FALSE, AND, TRUE, False),
        (FALSE, AND, FALSE, False),
        (TRUE, OR, TRUE, True),
        (TRUE, OR, FALSE, True),
        (FALSE, OR, TRUE, True),
        (FALSE, OR, FALSE, False),
    ],
    ids=["T&T", "T&F", "F&T", "F&F", "T|T", "T|F", "F|T", "F|F"],
)
def test_conjunction_combines_both_sides(
    left: condition_pb2.BooleanExpression, op: Logical, right: condition_pb2.BooleanExpression, expected: bool
) -> None:
    assert evaluate(conj(left, op, right), NO_INPUTS) is expected


def test_conjunction_evaluates_the_right_side_even_when_the_left_decides() -> None:
    assert branch_error(conj(FALSE, AND, BROKEN)) == "MalformedBranchUserError"
    assert branch_error(conj(TRUE, OR, BROKEN)) == "MalformedBranchUserError"


def test_nested_conjunctions_evaluate() -> None:
    assert evaluate(conj(conj(FALSE, OR, TRUE), AND, conj(TRUE, AND, TRUE)), NO_INPUTS)


def test_expression_without_comparison_or_conjunction_is_malformed() -> None:
    assert branch_error(condition_pb2.BooleanExpression()) == "MalformedBranchUserError"


# Choosing the case.


def test_true_case_is_selected() -> None:
    assert select_branch(if_else(block(TRUE, "a"), else_node="e"), NO_INPUTS).id == "a"


def test_first_true_other_case_is_selected_in_order() -> None:
    chosen = select_branch(if_else(block(FALSE, "a"), block(FALSE, "b"), block(TRUE, "c"), block(TRUE, "d")), NO_INPUTS)

    assert chosen.id == "c"


def test_case_wins_over_a_true_other_case() -> None:
    assert select_branch(if_else(block(TRUE, "a"), block(TRUE, "b")), NO_INPUTS).id == "a"


def test_conditions_after_the_chosen_case_are_not_evaluated() -> None:
    assert select_branch(if_else(block(TRUE, "a"), block(BROKEN, "b")), NO_INPUTS).id == "a"


def test_else_node_runs_when_no_case_holds() -> None:
    assert select_branch(if_else(block(FALSE, "a"), block(FALSE, "b"), else_node="e"), NO_INPUTS).id == "e"


def test_else_fail_raises_the_user_error_with_its_message() -> None:
    with pytest.raises(BranchUserError) as raised:
        select_branch(if_else(block(FALSE, "a"), error="n must be positive"), NO_INPUTS)

    assert (raised.value.code, raised.value.message) == ("UserProvidedError", "n must be positive")


def test_no_case_and_no_default_is_malformed() -> None:
    with pytest.raises(BranchUserError) as raised:
        select_branch(if_else(block(FALSE, "a")), NO_INPUTS)

    assert (raised.value.code, raised.value.message) == ("MalformedBranchUserError", "No branch satisfied")


def test_evaluation_error_in_a_case_is_raised() -> None:
    with pytest.raises(BranchUserError) as raised:
        select_branch(if_else(block(BROKEN, "a"), else_node="e"), NO_INPUTS)

    assert raised.value.code == "MalformedBranchUserError"


# The real flytekit branch: advanced_wf's `sign` node binds `.n <- n` and compares `.n` with 3 and 0.


@pytest.mark.parametrize(("n", "chosen"), [(5, ("n0", "halve")), (0, ("n1", "halve")), (-2, ("n2", "negate"))])
async def test_flytekit_branch_selects_on_the_workflow_input(n: int, chosen: tuple[str, str]) -> None:
    spec = load("examples-package.tgz").workflows["examples.advanced.advanced_wf"].template
    [branch_node] = [candidate for candidate in spec.nodes if candidate.HasField("branch_node")]
    inputs = await resolve_bindings(branch_node.inputs, OutputStore(start_node=outputs(n=int_literal(n))))

    selected = select_branch(branch_node.branch_node.if_else, inputs)

    assert (selected.id, selected.task_node.reference_id.name) == (chosen[0], f"examples.advanced.{chosen[1]}")
