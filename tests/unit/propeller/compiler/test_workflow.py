"""Workflow compilation pipeline (§1.4, §1.5, §1.10): nodes, edges, reachability and the closure."""

from __future__ import annotations

import pytest

from flyteidl_py.core import compiler_pb2, interface_pb2, types_pb2, workflow_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler import CompilationFailed, compile_workflow
from tests.unit.propeller.compiler.builders import (
    ADD,
    DOUBLE,
    INT,
    TASKS,
    always_true,
    compile_errors,
    compile_ok,
    promise,
    single_node,
    task,
    task_node,
    workflow,
)


def chain() -> workflow_pb2.WorkflowTemplate:
    """wf(x) -> o0: n0 = double(x); n1 = double(n0)."""
    return workflow(
        "wf",
        [task_node("n0", "double", x=promise("", "x")), task_node("n1", "double", x=promise("n0", "o0"))],
        inputs={"x": INT},
        outputs={"o0": INT},
        output_bindings={"o0": promise("n1", "o0")},
    )


def ids(connections: compiler_pb2.ConnectionSet, direction: str) -> dict[str, list[str]]:
    return {key: list(value.ids) for key, value in getattr(connections, direction).items()}


def test_closure_nodes_are_start_end_then_user_nodes_in_order() -> None:
    closure = compile_ok(chain())
    assert [n.id for n in closure.primary.template.nodes] == ["start-node", "end-node", "n0", "n1"]


def test_start_node_is_synthetic_without_target() -> None:
    start = compile_ok(chain()).primary.template.nodes[0]
    assert start == workflow_pb2.Node(id="start-node")


def test_end_node_carries_the_workflow_output_bindings() -> None:
    end = compile_ok(chain()).primary.template.nodes[1]
    assert end.WhichOneof("target") is None
    assert [(b.var, b.binding.promise.node_id, b.binding.promise.var) for b in end.inputs] == [("o0", "n1", "o0")]


def test_workflow_input_promises_resolve_to_start_node() -> None:
    n0 = compile_ok(chain()).primary.template.nodes[2]
    assert n0.inputs[0].binding.promise.node_id == "start-node"


def test_compiling_does_not_modify_the_given_template() -> None:
    template = chain()
    before = template.SerializeToString()
    compile_ok(template)
    assert template.SerializeToString() == before


def test_upstream_node_ids_are_sorted() -> None:
    wf = workflow(
        "wf",
        [task_node("b", "noop"), task_node("a", "noop"), task_node("n", "noop", upstream=["b", "a"])],
    )
    node = compile_ok(wf).primary.template.nodes[4]
    assert list(node.upstream_node_ids) == ["a", "b"]


def test_connections_follow_promises_and_add_start_and_end_edges() -> None:
    connections = compile_ok(chain()).primary.connections
    assert ids(connections, "downstream") == {"start-node": ["n0"], "n0": ["n1"], "n1": ["end-node"]}
    assert ids(connections, "upstream") == {"n0": ["start-node"], "n1": ["n0"], "end-node": ["n1"]}


def test_explicit_upstream_ids_become_edges() -> None:
    wf = workflow("wf", [task_node("n0", "noop"), task_node("n1", "noop", upstream=["n0"])])
    connections = compile_ok(wf).primary.connections
    assert ids(connections, "downstream") == {"start-node": ["n0"], "n0": ["n1"], "n1": ["end-node"]}


def test_connections_match_the_reference_example_with_a_branch_child() -> None:
    """n0 → n1 → n2 where branch n2's case child depends on n0 (§1.10 example)."""
    child = task_node("n0", "double", x=promise("n0", "o0"))
    branch = workflow_pb2.Node(
        id="n2",
        upstream_node_ids=["n1"],
        inputs=[],
        branch_node=workflow_pb2.BranchNode(
            if_else=workflow_pb2.IfElseBlock(
                case=workflow_pb2.IfBlock(condition=always_true(), then_node=child),
                error=types_pb2.Error(message="no case matched"),
            )
        ),
    )
    wf = workflow(
        "wf",
        [
            task_node("n0", "double", x=promise("", "x")),
            task_node("n1", "double", x=promise("n0", "o0")),
            branch,
        ],
        inputs={"x": INT},
    )
    connections = compile_ok(wf).primary.connections
    assert ids(connections, "downstream") == {
        "start-node": ["n0"],
        "n0": ["n1"],
        "n1": ["n2"],
        "n2": ["end-node"],
    }
    assert ids(connections, "upstream") == {
        "n0": ["start-node"],
        "n1": ["n0"],
        "n2": ["n1"],
        "n2-n0": ["n0"],
        "end-node": ["n2"],
    }


def test_workflow_without_nodes_is_no_nodes_found() -> None:
    assert compile_errors(workflow("empty", [])) == {("NoNodesFound", "empty")}


def test_node_without_id_is_value_required() -> None:
    assert ("ValueRequired", "") in compile_errors(workflow("wf", [task_node("", "noop")]))


def test_duplicate_node_ids_keep_the_first_node() -> None:
    wf = workflow("wf", [task_node("n0", "noop"), task_node("n0", "double", x=promise("", "x"))], inputs={"x": INT})
    nodes = compile_ok(wf).primary.template.nodes
    assert [n.id for n in nodes] == ["start-node", "end-node", "n0"]
    assert nodes[2].task_node.reference_id.name == "noop"


def test_user_node_named_start_node_is_dropped() -> None:
    wf = workflow("wf", [task_node("start-node", "noop"), task_node("n0", "noop")])
    assert [n.id for n in compile_ok(wf).primary.template.nodes] == ["start-node", "end-node", "n0"]


def test_node_without_target_is_value_required() -> None:
    assert compile_errors(workflow("wf", [workflow_pb2.Node(id="n0")])) == {("ValueRequired", "n0")}


def test_task_node_without_reference_is_value_required() -> None:
    node = workflow_pb2.Node(id="n0", task_node=workflow_pb2.TaskNode())
    assert compile_errors(workflow("wf", [node])) == {("ValueRequired", "n0")}


def test_unknown_task_is_task_reference_not_found() -> None:
    assert compile_errors(single_node(task_node("n0", "missing"))) == {("TaskReferenceNotFound", "n0")}


def test_cycle_reachable_from_start_is_detected() -> None:
    wf = workflow(
        "wf",
        [
            task_node("n0", "add", a=promise("", "x"), b=promise("n2", "o0")),
            task_node("n1", "double", x=promise("n0", "o0")),
            task_node("n2", "double", x=promise("n1", "o0")),
        ],
        inputs={"x": INT},
    )
    with pytest.raises(CompilationFailed) as raised:
        compile_workflow(wf, [], TASKS, [])
    [error] = raised.value.errors
    assert (error.code, error.node_id) == ("CycleDetected", "n0")
    assert "n0>n1>n2>n0" in error.message


def test_nodes_only_in_a_cycle_are_unreachable() -> None:
    wf = workflow(
        "wf",
        [
            task_node("n0", "noop"),
            task_node("n1", "double", x=promise("n2", "o0")),
            task_node("n2", "double", x=promise("n1", "o0")),
        ],
    )
    assert compile_errors(wf) == {("UnreachableNodes", "n1,n2")}


def test_unknown_upstream_node_is_node_reference_not_found() -> None:
    wf = workflow("wf", [task_node("n0", "noop", upstream=["ghost"])])
    assert compile_errors(wf) == {("NodeReferenceNotFound", "n0")}


def test_workflow_variable_without_type_is_value_required() -> None:
    wf = chain()
    wf.interface.inputs.variables["y"].CopyFrom(interface_pb2.Variable(description="untyped"))
    assert ("ValueRequired", "start-node") in compile_errors(wf)


def test_missing_interface_maps_are_normalised_to_empty() -> None:
    wf = workflow("wf", [task_node("n0", "noop")])
    wf.ClearField("interface")
    template = compile_ok(wf).primary.template
    assert template.interface.HasField("inputs")
    assert template.interface.HasField("outputs")


def test_all_errors_are_collected() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "missing"), task_node("n1", "double", x=promise("ghost", "o0"))],
    )
    assert compile_errors(wf) == {("TaskReferenceNotFound", "n0"), ("NodeReferenceNotFound", "n1")}


def test_failure_message_lists_each_error_with_code_and_node() -> None:
    with pytest.raises(InvalidArgument) as raised:
        compile_workflow(single_node(task_node("n0", "missing")), [], TASKS, [])
    assert "Code: TaskReferenceNotFound, Node Id: n0, Description:" in str(raised.value)


def test_failure_node_is_validated() -> None:
    wf = workflow("wf", [task_node("n0", "noop")], failure_node=task_node("fn", "missing"))
    assert compile_errors(wf) == {("TaskReferenceNotFound", "fn")}


def test_failure_node_gets_only_upstream_edges() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "double", x=promise("", "x"))],
        inputs={"x": INT},
        failure_node=task_node("fn", "double", x=promise("n0", "o0")),
    )
    closure = compile_ok(wf)
    assert ids(closure.primary.connections, "upstream")["fn"] == ["n0"]
    assert ids(closure.primary.connections, "downstream")["n0"] == ["end-node"]
    assert closure.primary.template.failure_node.id == "fn"
    assert "fn" not in [n.id for n in closure.primary.template.nodes]


def test_closure_tasks_hold_only_referenced_tasks_once() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "double", x=promise("", "x")), task_node("n1", "double", x=promise("n0", "o0"))],
        inputs={"x": INT},
    )
    closure = compile_ok(wf, tasks=[*TASKS, DOUBLE])
    assert [t.template.id.name for t in closure.tasks] == ["double"]


def test_closure_tasks_are_sorted_by_identifier() -> None:
    wf = workflow(
        "wf",
        [
            task_node("n0", "double", x=promise("", "x")),
            task_node("n1", "add", a=promise("", "x"), b=promise("", "x")),
        ],
        inputs={"x": INT},
    )
    assert [t.template.id.name for t in compile_ok(wf).tasks] == ["add", "double"]


def test_task_matching_is_by_full_identifier() -> None:
    other_version = task("double", {"x": INT}, {"o0": INT})
    other_version.template.id.version = "v2"
    assert compile_errors(single_node(task_node("n0", "double", x=promise("", "x"))), tasks=[other_version]) == {
        ("TaskReferenceNotFound", "n0")
    }


def test_compiled_task_without_id_is_value_required() -> None:
    nameless = task("nameless")
    nameless.template.ClearField("id")
    assert ("ValueRequired", "root") in compile_errors(
        single_node(task_node("n0", "add", a=promise("", "x"), b=promise("", "x"))), tasks=[ADD, nameless]
    )
