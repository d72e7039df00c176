"""The frontier: where each node of a scope stands (waiting, ready, running, finished) and how finishing moves it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flyteidl_py.core import identifier_pb2, workflow_pb2
from propeller.frontier import Frontier, occupies_slot
from propeller.scope import END, START, Scope
from propeller.status import NodePhase, NodeStatus


def task(node_id: str) -> workflow_pb2.Node:
    reference = identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, name=f"t-{node_id}")
    return workflow_pb2.Node(id=node_id, task_node=workflow_pb2.TaskNode(reference_id=reference))


def gate(node_id: str) -> workflow_pb2.Node:
    return workflow_pb2.Node(id=node_id, gate_node=workflow_pb2.GateNode())


def scope(nodes: Sequence[workflow_pb2.Node], upstream: Mapping[str, Sequence[str]]) -> Scope:
    graph = {START: workflow_pb2.Node(id=START), END: workflow_pb2.Node(id=END)}
    graph.update({node.id: node for node in nodes})
    return Scope(nodes=graph, upstream=upstream, key_prefix="", data_root="/w", top_level=True)


def takes_slot(node: workflow_pb2.Node) -> bool:
    """Task nodes take a slot of max parallelism; start, end and gate nodes do not."""
    return node.HasField("task_node")


def record(phase: NodePhase, **fields: object) -> NodeStatus:
    status = NodeStatus(phase=phase)
    for name, value in fields.items():
        setattr(status, name, value)
    return status


def test_nodes_with_no_unfinished_upstream_are_ready_and_the_others_wait_for_each_of_theirs() -> None:
    graph = scope([task("a"), task("b"), task("c")], {"a": [START], "b": [START], "c": ["a", "b"], END: ["c"]})

    frontier = Frontier.build({}, graph, takes_slot)

    assert frontier.ready_free == [START]
    assert frontier.ready_counted == []
    assert frontier.waiting == {"a": 1, "b": 1, "c": 2, END: 1}
    assert frontier.running == set()


def test_a_node_becomes_ready_when_its_last_upstream_finishes() -> None:
    graph = scope([task("a"), task("b"), task("c")], {"c": ["a", "b"], END: ["c"]})
    frontier = Frontier.build({}, graph, takes_slot)
    frontier.ready_counted.clear()  # a and b were started
    frontier.running.update({"a", "b"})

    frontier.finished("a", NodePhase.SUCCEEDED, takes_slot)
    assert frontier.waiting["c"] == 1
    assert "c" not in frontier.ready_counted

    frontier.finished("b", NodePhase.SUCCEEDED, takes_slot)
    assert "c" not in frontier.waiting
    assert frontier.ready_counted == ["c"]


def test_a_finished_node_leaves_the_running_set() -> None:
    graph = scope([task("a")], {END: ["a"]})
    frontier = Frontier.build({"a": record(NodePhase.RUNNING)}, graph, takes_slot)
    assert frontier.running == {"a"}

    frontier.finished("a", NodePhase.SUCCEEDED, takes_slot)

    assert frontier.running == set()
    assert frontier.ready_free == [START, END]


def test_a_failed_or_skipped_upstream_releases_its_dependents_too() -> None:
    # Whether a released node then runs or is skipped is the executor's decision (Executor.readiness).
    graph = scope([task("a"), task("b"), task("c"), task("d")], {"c": ["a"], "d": ["b"]})
    frontier = Frontier.build({}, graph, takes_slot)
    frontier.ready_counted.clear()  # a and b were started

    frontier.finished("a", NodePhase.FAILED, takes_slot)
    frontier.finished("b", NodePhase.SKIPPED, takes_slot)

    assert frontier.ready_counted == ["c", "d"]
    assert frontier.failed == ["a"]


def test_ready_nodes_are_kept_apart_by_whether_they_take_a_parallelism_slot() -> None:
    graph = scope([task("a"), gate("g"), task("b")], {"a": [START], "g": [START], "b": [START], END: ["a", "g", "b"]})
    frontier = Frontier.build({START: record(NodePhase.SUCCEEDED)}, graph, takes_slot)

    assert frontier.ready_counted == ["a", "b"]
    assert frontier.ready_free == ["g"]
    assert frontier.has_ready


def test_a_released_node_takes_its_graph_order_place_among_the_ready_ones() -> None:
    # Graph order: v, x, w, y, z (x -> y, v -> w -> z).
    graph = scope([task(n) for n in "vwxyz"], {"y": ["x"], "w": ["v"], "z": ["w"]})
    records = {"v": record(NodePhase.SUCCEEDED), "w": record(NodePhase.SUCCEEDED), "x": record(NodePhase.RUNNING)}
    frontier = Frontier.build(records, graph, takes_slot)
    assert frontier.ready_counted == ["z"]

    frontier.finished("x", NodePhase.SUCCEEDED, takes_slot)

    assert frontier.ready_counted == ["y", "z"]


def test_built_from_records_started_nodes_run_and_finished_ones_only_count_when_they_failed() -> None:
    graph = scope(
        [task("a"), task("b"), task("c"), task("d"), task("e")],
        {"a": [START], "b": [START], "c": [START], "d": [START], "e": ["d"]},
    )
    records = {
        START: record(NodePhase.SUCCEEDED),
        "a": record(NodePhase.SUCCEEDED),
        "b": record(NodePhase.FAILED),
        "c": record(NodePhase.QUEUED),
        "d": record(NodePhase.RETRYABLE_FAILURE),
    }

    frontier = Frontier.build(records, graph, takes_slot)

    assert frontier.running == {"c", "d"}
    assert frontier.failed == ["b"]
    assert frontier.waiting == {"e": 1}
    assert frontier.ready_counted == []
    assert frontier.ready_free == [END]


def test_upstream_nodes_outside_the_scope_do_not_hold_a_node_back() -> None:
    # A branch's child lists upstream nodes of the enclosing scope; the executor checks those itself.
    graph = scope([task("child")], {"child": ["outside"]})

    frontier = Frontier.build({}, graph, takes_slot)

    assert "child" in frontier.ready_counted
    assert "child" not in frontier.waiting


def test_a_node_listed_as_its_own_upstream_is_not_held_back_by_itself() -> None:
    graph = scope([task("a")], {"a": ["a"]})

    assert "a" in Frontier.build({}, graph, takes_slot).ready_counted


def test_the_first_failure_reported_is_the_failed_node_first_in_graph_order() -> None:
    graph = scope([task("a"), task("b"), task("c")], {"b": ["a"], "c": ["b"]})
    records = {"a": record(NodePhase.SUCCEEDED), "b": record(NodePhase.RUNNING), "c": record(NodePhase.NOT_STARTED)}
    frontier = Frontier.build(records, graph, takes_slot)
    records["c"] = record(NodePhase.TIMED_OUT, message="late")
    frontier.finished("c", NodePhase.TIMED_OUT, takes_slot)
    records["b"] = record(NodePhase.FAILED, message="broken")
    frontier.finished("b", NodePhase.FAILED, takes_slot)

    first = frontier.first_failed(records)

    assert first is not None and first.message == "broken"


def test_without_failures_there_is_no_first_failure() -> None:
    graph = scope([task("a")], {})

    assert Frontier.build({"a": record(NodePhase.SUCCEEDED)}, graph, takes_slot).first_failed({}) is None


def test_queued_running_and_dynamic_running_nodes_are_active_and_a_node_waiting_to_retry_is_not() -> None:
    graph = scope([task("a")], {})
    for phase, active in (
        (NodePhase.QUEUED, True),
        (NodePhase.RUNNING, True),
        (NodePhase.DYNAMIC_RUNNING, True),
        (NodePhase.RETRYABLE_FAILURE, False),
    ):
        records = {"a": record(phase)}
        assert Frontier.build(records, graph, takes_slot).any_active(records) is active, phase


def test_in_order_sorts_node_ids_by_the_scopes_dependency_order() -> None:
    graph = scope([task("a"), task("b"), task("c")], {"a": ["c"], "c": ["b"]})
    frontier = Frontier.build({}, graph, takes_slot)

    assert frontier.in_order({"a", "b", "c", START}) == [START, "b", "c", "a"]


def test_a_node_holds_a_parallelism_slot_once_handed_to_its_plugin_array_or_child_execution() -> None:
    assert not occupies_slot(record(NodePhase.QUEUED))  # not handed over yet
    assert occupies_slot(record(NodePhase.RUNNING, plugin_phase=0))
    assert occupies_slot(record(NodePhase.RUNNING, array_phase=1))
    assert occupies_slot(record(NodePhase.QUEUED, child_execution="child"))
    assert occupies_slot(record(NodePhase.RUNNING, plugin_phase=2))  # a dynamic parent while its task runs


def test_a_dynamic_parent_running_its_generated_nodes_holds_no_parallelism_slot() -> None:
    # Its children take slots of their own; nested dynamics would otherwise fill every slot with waiting parents.
    assert not occupies_slot(record(NodePhase.DYNAMIC_RUNNING, plugin_phase=5))


def test_a_finished_or_retrying_node_holds_no_parallelism_slot() -> None:
    for phase in (NodePhase.SUCCEEDED, NodePhase.FAILED, NodePhase.ABORTED, NodePhase.RETRYABLE_FAILURE):
        assert not occupies_slot(record(phase, plugin_phase=4)), phase
