"""Branch nodes (§1.8): structure, child ids, conditions and the branch's outputs."""

from __future__ import annotations

from flyteidl_py.core import condition_pb2, literals_pb2, types_pb2, workflow_pb2
from tests.unit.propeller.compiler.builders import (
    FLOAT,
    INT,
    TASKS,
    always_true,
    comparison,
    compile_errors,
    compile_ok,
    int_operand,
    optional,
    promise,
    task,
    task_node,
    var_operand,
    workflow,
)

GT = condition_pb2.ComparisonExpression.GT
HALVE = task("halve", {"x": INT}, {"o0": FLOAT})
BRANCH_TASKS = [*TASKS, HALVE]


def branch(
    node_id: str,
    case: workflow_pb2.Node | None,
    else_node: workflow_pb2.Node | None = None,
    condition: condition_pb2.BooleanExpression | None = None,
    others: tuple[workflow_pb2.Node, ...] = (),
    **inputs: literals_pb2.BindingData,
) -> workflow_pb2.Node:
    if_else = workflow_pb2.IfElseBlock()
    if case is not None:
        if_else.case.CopyFrom(
            workflow_pb2.IfBlock(condition=condition if condition is not None else always_true(), then_node=case)
        )
    for other in others:
        if_else.other.append(workflow_pb2.IfBlock(condition=always_true(), then_node=other))
    if else_node is not None:
        if_else.else_node.CopyFrom(else_node)
    node = workflow_pb2.Node(id=node_id, branch_node=workflow_pb2.BranchNode(if_else=if_else))
    for var, data in inputs.items():
        node.inputs.add(var=var).binding.CopyFrom(data)
    return node


def doubling(node_id: str = "n0") -> workflow_pb2.Node:
    return task_node(node_id, "double", x=promise("", "x"))


def wf_with(
    *nodes: workflow_pb2.Node,
    outputs: dict[str, types_pb2.LiteralType] | None = None,
    **bindings: literals_pb2.BindingData,
) -> workflow_pb2.WorkflowTemplate:
    return workflow("wf", nodes, inputs={"x": INT}, outputs=outputs, output_bindings=bindings)


def test_branch_child_ids_are_prefixed_with_the_branch_id() -> None:
    node = compile_ok(wf_with(branch("b", doubling("n0"), doubling("n1")))).primary.template.nodes[2]
    assert node.branch_node.if_else.case.then_node.id == "b-n0"
    assert node.branch_node.if_else.else_node.id == "b-n1"


def test_nested_branch_children_are_prefixed_at_every_level() -> None:
    inner = branch("n0", doubling("n0"), doubling("n1"))
    node = compile_ok(wf_with(branch("b", inner, doubling("n1")))).primary.template.nodes[2]
    assert node.branch_node.if_else.case.then_node.branch_node.if_else.case.then_node.id == "b-n0-n0"


def test_branch_children_stay_nested_and_their_tasks_are_in_the_closure() -> None:
    else_node = task_node("n1", "add", a=promise("", "x"), b=promise("", "x"))
    closure = compile_ok(wf_with(branch("b", doubling(), else_node)))
    assert [n.id for n in closure.primary.template.nodes] == ["start-node", "end-node", "b"]
    assert [t.template.id.name for t in closure.tasks] == ["add", "double"]


def test_branch_children_get_only_upstream_edges() -> None:
    wf = wf_with(doubling("up"), branch("b", task_node("n0", "double", x=promise("up", "o0")), doubling("n1")))
    connections = compile_ok(wf).primary.connections
    assert list(connections.upstream["b-n0"].ids) == ["up"]
    assert "b-n0" not in connections.downstream
    assert list(connections.downstream["up"].ids) == ["end-node"]


def test_branch_children_cannot_be_referenced_from_outside() -> None:
    wf = wf_with(branch("b", doubling(), doubling("n1")), task_node("n2", "double", x=promise("b-n0", "o0")))
    assert compile_errors(wf) == {("NodeReferenceNotFound", "n2")}


def test_branch_outputs_shared_by_every_child_are_usable() -> None:
    wf = wf_with(
        branch("b", doubling("n0"), doubling("n1")),
        outputs={"o0": INT},
        o0=promise("b", "o0"),
    )
    compile_ok(wf)


def test_branch_outputs_with_different_types_are_mismatching_types() -> None:
    wf = wf_with(branch("b", doubling("n0"), task_node("n1", "halve", x=promise("", "x"))))
    assert compile_errors(wf, tasks=BRANCH_TASKS) == {("MismatchingTypes", "b")}


def test_output_missing_from_one_child_is_not_a_branch_output() -> None:
    wf = wf_with(branch("b", doubling("n0"), task_node("n1", "noop")), task_node("n2", "double", x=promise("b", "o0")))
    assert compile_errors(wf) == {("VariableNameNotFound", "n2")}


def test_branch_with_error_default_outputs_the_case_outputs() -> None:
    node = branch("b", doubling("n0"))
    node.branch_node.if_else.error.CopyFrom(types_pb2.Error(message="none matched"))
    compile_ok(wf_with(node, outputs={"o0": INT}, o0=promise("b", "o0")))


def test_branch_without_case_has_no_condition() -> None:
    assert compile_errors(wf_with(branch("b", None, doubling("n1")))) == {("BranchNodeHasNoCondition", "b")}


def test_case_without_condition_has_no_condition() -> None:
    node = branch("b", doubling(), doubling("n1"))
    node.branch_node.if_else.case.ClearField("condition")
    assert compile_errors(wf_with(node)) == {("BranchNodeHasNoCondition", "b")}


def test_case_without_then_node_is_branch_node_id_not_found() -> None:
    node = branch("b", doubling(), doubling("n1"))
    node.branch_node.if_else.case.ClearField("then_node")
    assert compile_errors(wf_with(node)) == {("BranchNodeIdNotFound", "b")}


def test_branch_without_else_or_error_has_no_default() -> None:
    assert compile_errors(wf_with(branch("b", doubling()))) == {("BranchNodeHasNoDefault", "b")}


def test_branch_children_are_validated_like_nodes() -> None:
    wf = wf_with(branch("b", task_node("n0", "double", x=promise("", "nope")), task_node("n1", "missing")))
    assert compile_errors(wf) == {("VariableNameNotFound", "b-n0"), ("TaskReferenceNotFound", "b-n1")}


def test_other_cases_are_validated() -> None:
    wf = wf_with(branch("b", doubling(), doubling("n2"), others=(task_node("n1", "missing"),)))
    assert compile_errors(wf) == {("TaskReferenceNotFound", "b-n1")}


def test_condition_on_a_bound_branch_input_compiles() -> None:
    node = branch(
        "b",
        doubling(),
        doubling("n1"),
        comparison(var_operand(".x"), GT, int_operand(3)),
        **{".x": promise("", "x")},
    )
    compile_ok(wf_with(node))


def test_condition_on_an_unbound_variable_is_variable_name_not_found() -> None:
    node = branch("b", doubling(), doubling("n1"), comparison(var_operand("y"), GT, int_operand(3)))
    assert compile_errors(wf_with(node)) == {("VariableNameNotFound", "b")}


def test_condition_operands_of_different_types_are_mismatching_types() -> None:
    condition = comparison(
        var_operand(".x"), GT, condition_pb2.Operand(primitive=literals_pb2.Primitive(float_value=1.5))
    )
    node = branch("b", doubling(), doubling("n1"), condition, **{".x": promise("", "x")})
    assert compile_errors(wf_with(node)) == {("MismatchingTypes", "b")}


def test_is_none_condition_on_an_optional_input_compiles() -> None:
    none = condition_pb2.Operand(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    condition = comparison(var_operand(".y"), condition_pb2.ComparisonExpression.EQ, none)
    node = branch("b", doubling(), doubling("n1"), condition, **{".y": promise("", "y")})
    wf = workflow("wf", [node], inputs={"x": INT, "y": optional(INT)})
    compile_ok(wf)


def test_conjunction_checks_both_sides() -> None:
    condition = condition_pb2.BooleanExpression(
        conjunction=condition_pb2.ConjunctionExpression(
            operator=condition_pb2.ConjunctionExpression.AND,
            left_expression=always_true(),
            right_expression=comparison(var_operand("nope"), GT, int_operand(1)),
        )
    )
    assert compile_errors(wf_with(branch("b", doubling(), doubling("n1"), condition))) == {
        ("VariableNameNotFound", "b")
    }


def test_conjunction_missing_a_side_has_no_condition() -> None:
    condition = condition_pb2.BooleanExpression(
        conjunction=condition_pb2.ConjunctionExpression(left_expression=always_true())
    )
    assert compile_errors(wf_with(branch("b", doubling(), doubling("n1"), condition))) == {
        ("BranchNodeHasNoCondition", "b")
    }


def test_expression_without_comparison_or_conjunction_is_value_required() -> None:
    condition = condition_pb2.BooleanExpression()
    node = branch("b", doubling(), doubling("n1"))
    node.branch_node.if_else.case.condition.CopyFrom(condition)
    node.branch_node.if_else.case.condition.SetInParent()
    assert compile_errors(wf_with(node)) == {("ValueRequired", "b")}


def test_operand_without_value_is_value_required() -> None:
    condition = comparison(condition_pb2.Operand(), GT, int_operand(1))
    assert compile_errors(wf_with(branch("b", doubling(), doubling("n1"), condition))) == {("ValueRequired", "b")}


def test_condition_var_bound_to_a_broken_promise_reports_only_the_promise() -> None:
    condition = comparison(var_operand(".x"), GT, int_operand(3))
    node = branch("b", doubling(), doubling("n1"), condition, **{".x": promise("ghost", "o0")})
    assert compile_errors(wf_with(node)) == {("NodeReferenceNotFound", "b")}
