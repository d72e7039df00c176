"""Branch nodes: child id rewriting, structure checks, condition typing and the branch's output interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flyteidl_py.core import condition_pb2, interface_pb2, workflow_pb2
from propeller.compiler.errors import CompileError, ErrorCode
from propeller.compiler.literals import primitive_type, scalar_type
from propeller.compiler.types import LiteralType, is_none_type, is_optional, type_str


def rewrite_child_ids(node: workflow_pb2.Node) -> None:
    """Rename every branch child (at any depth) to `<branchId>-<childId>`, in place."""
    kind = node.WhichOneof("target")
    if kind == "branch_node":
        for child in _child_slots(node):
            child.id = f"{node.id}-{child.id}"
            rewrite_child_ids(child)
    elif kind == "array_node" and node.array_node.HasField("node"):
        rewrite_child_ids(node.array_node.node)


def _child_slots(node: workflow_pb2.Node) -> list[workflow_pb2.Node]:
    if_else = node.branch_node.if_else
    blocks = ([if_else.case] if if_else.HasField("case") else []) + list(if_else.other)
    children = [block.then_node for block in blocks if block.HasField("then_node")]
    if if_else.HasField("else_node"):
        children.append(if_else.else_node)
    return children


def branch_children(node: workflow_pb2.Node, errors: list[CompileError]) -> list[workflow_pb2.Node]:
    """The case and else nodes of a branch node, reporting a missing condition, then-node or default."""
    branch = node.branch_node
    if not branch.HasField("if_else") or not branch.if_else.HasField("case"):
        errors.append(CompileError(ErrorCode.BRANCH_NODE_HAS_NO_CONDITION, node.id, "Branch node has no case."))
        return []
    if_else = branch.if_else
    for block in [if_else.case, *if_else.other]:
        if not block.HasField("condition"):
            errors.append(
                CompileError(ErrorCode.BRANCH_NODE_HAS_NO_CONDITION, node.id, "Branch case has no condition.")
            )
        if not block.HasField("then_node"):
            errors.append(CompileError(ErrorCode.BRANCH_NODE_ID_NOT_FOUND, node.id, "Branch case has no then-node."))
    if if_else.WhichOneof("default") is None:
        errors.append(
            CompileError(
                ErrorCode.BRANCH_NODE_HAS_NO_DEFAULT,
                node.id,
                "Branch node has neither an else node nor an error.",
            )
        )
    return _child_slots(node)


def branch_conditions(node: workflow_pb2.Node) -> list[condition_pb2.BooleanExpression]:
    if_else = node.branch_node.if_else
    return [block.condition for block in [if_else.case, *if_else.other] if block.HasField("condition")]


def validate_condition(
    node_id: str,
    expression: condition_pb2.BooleanExpression,
    inputs: Mapping[str, LiteralType | None],
    errors: list[CompileError],
) -> None:
    """Check a branch condition: operands must be literals or branch inputs, compared sides of one type.

    `inputs` maps each branch input to its type, None when the type is unknown (it is then not compared).
    """
    kind = expression.WhichOneof("expr")
    if kind == "comparison":
        comparison = expression.comparison
        right = _operand_type(node_id, "RightValue", comparison, inputs, errors)
        left = _operand_type(node_id, "LeftValue", comparison, inputs, errors)
        if left is not None and right is not None and not _comparable(left, right):
            errors.append(
                CompileError(
                    ErrorCode.MISMATCHING_TYPES,
                    node_id,
                    f"Condition operands differ in type: left [{type_str(left)}], right [{type_str(right)}].",
                )
            )
    elif kind == "conjunction":
        conjunction = expression.conjunction
        for side in ("left_expression", "right_expression"):
            if conjunction.HasField(side):
                validate_condition(node_id, getattr(conjunction, side), inputs, errors)
            else:
                errors.append(
                    CompileError(ErrorCode.BRANCH_NODE_HAS_NO_CONDITION, node_id, f"Conjunction has no {side}.")
                )
    else:
        errors.append(CompileError(ErrorCode.VALUE_REQUIRED, node_id, "Value required [Expr]."))


def _operand_type(
    node_id: str,
    side: str,
    comparison: condition_pb2.ComparisonExpression,
    inputs: Mapping[str, LiteralType | None],
    errors: list[CompileError],
) -> LiteralType | None:
    operand = comparison.right_value if side == "RightValue" else comparison.left_value
    kind = operand.WhichOneof("val")
    if kind == "primitive":
        return primitive_type(operand.primitive)
    if kind == "scalar":
        return scalar_type(operand.scalar)
    if kind == "var":
        if operand.var not in inputs:
            errors.append(
                CompileError(
                    ErrorCode.VARIABLE_NAME_NOT_FOUND,
                    node_id,
                    f"Variable [{operand.var}] not found on node [{node_id}].",
                )
            )
            return None
        return inputs[operand.var]
    errors.append(CompileError(ErrorCode.VALUE_REQUIRED, node_id, f"Value required [{side}.Val]."))
    return None


def _comparable(left: LiteralType, right: LiteralType) -> bool:
    if left == right:
        return True
    # `x.is_none()` compares an Optional input with a None literal; accept NONE against an optional.
    return (is_none_type(left) and is_optional(right)) or (is_none_type(right) and is_optional(left))


def branch_outputs(
    node_id: str,
    child_outputs: Sequence[Mapping[str, interface_pb2.Variable]],
    errors: list[CompileError],
) -> dict[str, interface_pb2.Variable]:
    """The outputs every child shares by name; a shared name must have the identical type in every child."""
    if not child_outputs:
        return {}
    common = set(child_outputs[0])
    for outputs in child_outputs[1:]:
        common &= set(outputs)
    result: dict[str, interface_pb2.Variable] = {}
    for name in sorted(common):
        first = child_outputs[0][name]
        if all(outputs[name].type == first.type for outputs in child_outputs[1:]):
            result[name] = first
        else:
            types = ", ".join(f"[{type_str(outputs[name].type)}]" for outputs in child_outputs)
            errors.append(
                CompileError(
                    ErrorCode.MISMATCHING_TYPES,
                    node_id,
                    f"Output [{name}] has different types in the branch cases: {types}.",
                )
            )
    return result
