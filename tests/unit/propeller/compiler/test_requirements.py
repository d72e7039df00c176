"""Requirements gathering (§1.4): every referenced task and launch plan, at any depth, once each."""

from __future__ import annotations

from collections.abc import Sequence

from flyteidl_py.core import identifier_pb2, workflow_pb2
from propeller.compiler import requirements
from tests.unit.propeller.compiler.builders import (
    INT,
    launch_plan_id,
    promise,
    task_id,
    task_node,
    workflow,
    workflow_id,
)


def names(ids: Sequence[identifier_pb2.Identifier]) -> list[str]:
    return [i.name for i in ids]


def branch_node(node_id: str) -> workflow_pb2.Node:
    return workflow_pb2.Node(
        id=node_id,
        branch_node=workflow_pb2.BranchNode(
            if_else=workflow_pb2.IfElseBlock(
                case=workflow_pb2.IfBlock(then_node=task_node("c", "case_task")),
                other=[workflow_pb2.IfBlock(then_node=task_node("o", "other_task"))],
                else_node=task_node("e", "else_task"),
            )
        ),
    )


def test_task_nodes_are_required() -> None:
    wf = workflow("wf", [task_node("n0", "a"), task_node("n1", "b")])
    assert names(requirements(wf, []).task_ids) == ["a", "b"]


def test_repeated_references_are_listed_once() -> None:
    wf = workflow("wf", [task_node("n0", "a"), task_node("n1", "a")])
    assert requirements(wf, []).task_ids == [task_id("a")]


def test_branch_cases_and_else_are_walked() -> None:
    wf = workflow("wf", [branch_node("n0")])
    assert names(requirements(wf, []).task_ids) == ["case_task", "other_task", "else_task"]


def test_array_sub_nodes_are_walked() -> None:
    array = workflow_pb2.Node(id="n0", array_node=workflow_pb2.ArrayNode(node=task_node("sub", "mapped")))
    assert names(requirements(workflow("wf", [array]), []).task_ids) == ["mapped"]


def test_failure_node_is_walked() -> None:
    wf = workflow("wf", [task_node("n0", "a")], failure_node=task_node("fn", "cleanup"))
    assert names(requirements(wf, []).task_ids) == ["a", "cleanup"]


def test_sub_workflow_bodies_are_walked() -> None:
    sub = workflow("sub", [task_node("n0", "inner")])
    node = workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=workflow_id("sub")))
    assert names(requirements(workflow("wf", [node]), [sub]).task_ids) == ["inner"]


def test_launch_plan_references_are_required() -> None:
    node = workflow_pb2.Node(
        id="n0",
        inputs=[],
        workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=launch_plan_id("lp")),
    )
    needs = requirements(workflow("wf", [node], inputs={"x": INT}), [])
    assert needs.launch_plan_ids == [launch_plan_id("lp")]
    assert needs.task_ids == []


def test_nodes_without_references_require_nothing() -> None:
    gate = workflow_pb2.Node(id="n0", gate_node=workflow_pb2.GateNode(sleep=workflow_pb2.SleepCondition()))
    needs = requirements(workflow("wf", [gate, task_node("n1", "a", x=promise("", "x"))]), [])
    assert names(needs.task_ids) == ["a"]
    assert needs.launch_plan_ids == []
