"""Which handler serves a node: chosen by the node's target alone, and a node of no known kind is an error."""

from __future__ import annotations

import pytest

from flyteidl_py.core import identifier_pb2, workflow_pb2
from propeller.nodes.base import NodeContext, NodeHandler, NodeHandlers, NodeResult, Outcome, UnknownNodeKind
from propeller.scope import END, START


class Named(NodeHandler):
    """A handler that only says which kind it was registered for (dispatch is all these tests look at)."""

    counts_for_parallelism = False

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def handle(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(Outcome.SUCCESS)


KINDS = ("start", "end", "task", "branch", "subworkflow", "launchplan", "gate", "array")
HANDLERS = NodeHandlers(**{kind: Named(kind) for kind in KINDS})
REFERENCE = identifier_pb2.Identifier(name="x")


def kind_of(node: workflow_pb2.Node) -> str:
    handler = HANDLERS.for_node(node)
    assert isinstance(handler, Named)
    return handler.kind


@pytest.mark.parametrize(
    ("node", "kind"),
    [
        (workflow_pb2.Node(id=START), "start"),
        (workflow_pb2.Node(id=END), "end"),
        (workflow_pb2.Node(id="n", task_node=workflow_pb2.TaskNode(reference_id=REFERENCE)), "task"),
        (workflow_pb2.Node(id="n", branch_node=workflow_pb2.BranchNode()), "branch"),
        (workflow_pb2.Node(id="n", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=REFERENCE)), "subworkflow"),
        (workflow_pb2.Node(id="n", workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=REFERENCE)), "launchplan"),
        (workflow_pb2.Node(id="n", gate_node=workflow_pb2.GateNode()), "gate"),
        (workflow_pb2.Node(id="n", array_node=workflow_pb2.ArrayNode()), "array"),
    ],
)
def test_each_node_kind_is_served_by_its_own_handler(node: workflow_pb2.Node, kind: str) -> None:
    assert kind_of(node) == kind


def test_a_node_with_no_target_is_an_unknown_kind_not_an_end_node() -> None:
    with pytest.raises(UnknownNodeKind, match="'n'"):
        HANDLERS.for_node(workflow_pb2.Node(id="n"))


def test_intercepted_handlers_wrap_every_kind_under_its_name() -> None:
    seen: list[str] = []

    def wrap(kind: str, handler: NodeHandler) -> NodeHandler:
        seen.append(kind)
        return handler

    HANDLERS.intercepted(wrap)

    assert seen == list(KINDS)
