"""The event transition policies: which phase changes admin accepts, and the error each refusal names."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from admin.managers.transitions import (
    DEFAULT_PRODUCER,
    NODE,
    NODE_POLICY,
    TASK,
    TASK_POLICY,
    WF,
    WORKFLOW_POLICY,
    Change,
    PhaseEnum,
    Rule,
    check,
)
from flyteidl_py.admin import event_pb2
from flyteplane.errors import AlreadyExists, FailedPrecondition, FlyteplaneError


def _change(
    phases: PhaseEnum,
    current: int,
    incoming: int,
    *,
    producer: str = "",
    cluster: str = "",
    current_version: int = 0,
    incoming_version: int = 0,
) -> Change:
    return Change.of(phases, phases.Name(current), incoming, producer, cluster, current_version, incoming_version)


def _refusal(policy: Sequence[Rule], change: Change) -> FlyteplaneError:
    with pytest.raises(FlyteplaneError) as raised:
        check(policy, change)
    return raised.value


def _reason(error: FlyteplaneError) -> event_pb2.EventFailureReason:
    assert isinstance(error.details, event_pb2.EventFailureReason)
    return error.details


# ---- Change ---------------------------------------------------------------------------------------


def test_a_change_reads_the_stored_phase_by_name_and_names_the_incoming_phase() -> None:
    change = Change.of(TASK, "RUNNING", TASK.SUCCEEDED, "propeller", "c1", 2, 3)

    assert change == Change(TASK.RUNNING, TASK.SUCCEEDED, "RUNNING", "SUCCEEDED", "propeller", "c1", 2, 3)


# ---- workflow executions --------------------------------------------------------------------------


def test_workflow_moves_forward_from_queued_to_running() -> None:
    check(WORKFLOW_POLICY, _change(WF, WF.QUEUED, WF.RUNNING))


def test_workflow_refuses_the_same_phase_twice_as_already_exists() -> None:
    error = _refusal(WORKFLOW_POLICY, _change(WF, WF.RUNNING, WF.RUNNING))

    assert isinstance(error, AlreadyExists)
    assert error.field == "event.phase"
    assert "RUNNING was already recorded for workflow execution" in error.message


def test_workflow_accepts_queued_again_which_announces_a_cluster_reassignment() -> None:
    check(WORKFLOW_POLICY, _change(WF, WF.QUEUED, WF.QUEUED))


def test_workflow_refuses_an_event_from_another_cluster() -> None:
    error = _refusal(WORKFLOW_POLICY, _change(WF, WF.RUNNING, WF.SUCCEEDED, producer="c2", cluster="c1"))

    assert isinstance(error, FailedPrecondition)
    assert error.field == "event.producer_id"
    assert _reason(error).incompatible_cluster.cluster == "c1"


def test_workflow_accepts_queued_from_another_cluster_which_takes_the_execution_over() -> None:
    check(WORKFLOW_POLICY, _change(WF, WF.QUEUED, WF.QUEUED, producer="c2", cluster="c1"))


def test_workflow_ignores_the_cluster_of_the_default_producer() -> None:
    check(WORKFLOW_POLICY, _change(WF, WF.RUNNING, WF.SUCCEEDED, producer=DEFAULT_PRODUCER, cluster="c1"))


def test_workflow_accepts_any_producer_while_no_cluster_is_stored() -> None:
    check(WORKFLOW_POLICY, _change(WF, WF.RUNNING, WF.SUCCEEDED, producer="c2"))


def test_workflow_refuses_any_change_once_terminal_naming_the_stored_phase() -> None:
    error = _refusal(WORKFLOW_POLICY, _change(WF, WF.SUCCEEDED, WF.RUNNING))

    assert isinstance(error, FailedPrecondition)
    assert error.field == "event.phase"
    assert _reason(error).already_in_terminal_state.current_phase == "SUCCEEDED"


def test_workflow_refuses_going_from_running_back_to_queued() -> None:
    error = _refusal(WORKFLOW_POLICY, _change(WF, WF.RUNNING, WF.QUEUED))

    assert isinstance(error, FailedPrecondition)
    assert error.message == "Cannot go from RUNNING to QUEUED"


def test_workflow_refuses_an_aborting_execution_anything_but_a_terminal_phase() -> None:
    error = _refusal(WORKFLOW_POLICY, _change(WF, WF.ABORTING, WF.RUNNING))

    assert isinstance(error, FailedPrecondition)
    assert error.message == "Invalid phase change from aborting to RUNNING"


def test_workflow_lets_an_aborting_execution_end_aborted() -> None:
    check(WORKFLOW_POLICY, _change(WF, WF.ABORTING, WF.ABORTED))


def test_workflow_names_the_duplicate_before_the_terminal_state() -> None:
    error = _refusal(WORKFLOW_POLICY, _change(WF, WF.SUCCEEDED, WF.SUCCEEDED))

    assert isinstance(error, AlreadyExists)


# ---- node executions ------------------------------------------------------------------------------


def test_node_moves_forward_from_running_to_succeeded() -> None:
    check(NODE_POLICY, _change(NODE, NODE.RUNNING, NODE.SUCCEEDED))


def test_node_refuses_the_same_phase_twice_as_already_exists() -> None:
    error = _refusal(NODE_POLICY, _change(NODE, NODE.QUEUED, NODE.QUEUED))

    assert isinstance(error, AlreadyExists)
    assert "QUEUED was already recorded for node execution" in error.message


def test_node_refuses_an_event_from_another_cluster_even_when_queued() -> None:
    error = _refusal(NODE_POLICY, _change(NODE, NODE.RUNNING, NODE.QUEUED, producer="c2", cluster="c1"))

    assert _reason(error).incompatible_cluster.cluster == "c1"


def test_node_names_the_cluster_before_the_duplicate() -> None:
    error = _refusal(NODE_POLICY, _change(NODE, NODE.RUNNING, NODE.RUNNING, producer="c2", cluster="c1"))

    assert error.field == "event.producer_id"


def test_node_refuses_any_change_once_terminal_naming_the_incoming_phase_as_flyte_does() -> None:
    error = _refusal(NODE_POLICY, _change(NODE, NODE.SKIPPED, NODE.RUNNING))

    assert isinstance(error, FailedPrecondition)
    assert _reason(error).already_in_terminal_state.current_phase == "RUNNING"


@pytest.mark.parametrize(
    "terminal", [NODE.SUCCEEDED, NODE.FAILED, NODE.ABORTED, NODE.SKIPPED, NODE.TIMED_OUT, NODE.RECOVERED]
)
def test_node_counts_each_terminal_phase_as_terminal(terminal: int) -> None:
    with pytest.raises(FailedPrecondition):
        check(NODE_POLICY, _change(NODE, terminal, NODE.RUNNING))


# ---- task executions ------------------------------------------------------------------------------


def test_task_moves_forward_from_queued_to_running() -> None:
    check(TASK_POLICY, _change(TASK, TASK.QUEUED, TASK.RUNNING))


def test_task_accepts_the_same_phase_with_a_newer_phase_version() -> None:
    check(TASK_POLICY, _change(TASK, TASK.RUNNING, TASK.RUNNING, current_version=1, incoming_version=2))


def test_task_refuses_the_same_phase_without_a_newer_phase_version() -> None:
    error = _refusal(TASK_POLICY, _change(TASK, TASK.RUNNING, TASK.RUNNING, current_version=2, incoming_version=2))

    assert isinstance(error, AlreadyExists)
    assert error.field == "event.phase_version"
    assert error.message == "have already recorded task execution phase RUNNING (version: 2)"


def test_task_refuses_an_event_from_another_cluster() -> None:
    error = _refusal(TASK_POLICY, _change(TASK, TASK.RUNNING, TASK.SUCCEEDED, producer="c2", cluster="c1"))

    assert _reason(error).incompatible_cluster.cluster == "c1"


def test_task_refuses_any_change_once_terminal_naming_the_incoming_phase() -> None:
    error = _refusal(TASK_POLICY, _change(TASK, TASK.FAILED, TASK.RUNNING))

    assert isinstance(error, FailedPrecondition)
    assert _reason(error).already_in_terminal_state.current_phase == "RUNNING"


def test_task_refuses_a_newer_version_of_a_terminal_phase() -> None:
    error = _refusal(TASK_POLICY, _change(TASK, TASK.SUCCEEDED, TASK.SUCCEEDED, current_version=0, incoming_version=1))

    assert isinstance(error, FailedPrecondition)


# ---- the policy ---------------------------------------------------------------------------------


def test_check_raises_the_first_refusal_of_the_policy_in_order() -> None:
    first = Rule("first", lambda c: True, lambda c: AlreadyExists("first"))
    second = Rule("second", lambda c: True, lambda c: FailedPrecondition("second"))

    assert _refusal((first, second), _change(TASK, TASK.QUEUED, TASK.RUNNING)).message == "first"


def test_check_passes_when_no_rule_refuses() -> None:
    never = Rule("never", lambda c: False, lambda c: AlreadyExists("never"))

    check((never,), _change(TASK, TASK.QUEUED, TASK.RUNNING))
