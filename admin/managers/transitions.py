"""Which event phase changes admin accepts: small named rules, one policy per kind of execution.

Each rule looks at the stored phase and the incoming event and either passes or names the error
Flyte answers with. A policy is the ordered list of its rules; the first refusal wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flyteidl_py.admin import event_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteplane.errors import AlreadyExists, FailedPrecondition, FlyteplaneError

WF = core.WorkflowExecution.Phase
NODE = core.NodeExecution.Phase
TASK = core.TaskExecution.Phase

WORKFLOW_TERMINAL = frozenset({WF.SUCCEEDED, WF.FAILED, WF.TIMED_OUT, WF.ABORTED})
NODE_TERMINAL = frozenset({NODE.SUCCEEDED, NODE.FAILED, NODE.ABORTED, NODE.SKIPPED, NODE.TIMED_OUT, NODE.RECOVERED})
TASK_TERMINAL = frozenset({TASK.SUCCEEDED, TASK.FAILED, TASK.ABORTED})

# The cluster name propeller reports when it does not name a cluster.
DEFAULT_PRODUCER = "propeller"


class PhaseEnum(Protocol):
    """A phase enum of flyteidl (WF, NODE, TASK): a phase's number for its name, and back."""

    def Value(self, name: str) -> int: ...

    def Name(self, number: int) -> str: ...


@dataclass(frozen=True)
class Change:
    """An event arriving for a stored record."""

    current: int
    incoming: int
    current_name: str
    incoming_name: str
    producer: str = ""
    stored_cluster: str = ""
    current_version: int = 0
    incoming_version: int = 0

    @classmethod
    def of(
        cls,
        phases: PhaseEnum,
        stored_phase: str,
        event_phase: int,
        producer: str,
        stored_cluster: str,
        stored_version: int = 0,
        event_version: int = 0,
    ) -> Change:
        """An event for a record whose phase is stored by name (as admin's rows keep it)."""
        return cls(
            phases.Value(stored_phase),
            event_phase,
            stored_phase,
            phases.Name(event_phase),
            producer,
            stored_cluster,
            stored_version,
            event_version,
        )


@dataclass(frozen=True)
class Rule:
    name: str
    refuses: Callable[[Change], bool]
    error: Callable[[Change], FlyteplaneError]


def _terminal_error(phase_name: Callable[[Change], str]) -> Callable[[Change], FlyteplaneError]:
    def make(change: Change) -> FlyteplaneError:
        return FailedPrecondition(
            f"Invalid phase change from {change.current_name} to {change.incoming_name}: "
            "the execution is already in a terminal state",
            field="event.phase",
            details=event_pb2.EventFailureReason(
                already_in_terminal_state=event_pb2.EventErrorAlreadyInTerminalState(current_phase=phase_name(change))
            ),
        )

    return make


def _cluster_mismatch(change: Change) -> bool:
    return bool(
        change.producer
        and change.producer != DEFAULT_PRODUCER
        and change.stored_cluster
        and change.producer != change.stored_cluster
    )


def _cluster_error(change: Change) -> FlyteplaneError:
    return FailedPrecondition(
        f"event from cluster {change.producer} for an execution running on {change.stored_cluster}",
        field="event.producer_id",
        details=event_pb2.EventFailureReason(
            incompatible_cluster=event_pb2.EventErrorIncompatibleCluster(cluster=change.stored_cluster)
        ),
    )


def _duplicate(kind: str) -> Callable[[Change], FlyteplaneError]:
    return lambda change: AlreadyExists(
        f"This phase {change.incoming_name} was already recorded for {kind}", field="event.phase"
    )


WORKFLOW_POLICY: Sequence[Rule] = (
    Rule(
        "same phase twice (repeated QUEUED announces a cluster reassignment and is allowed)",
        lambda c: c.incoming != WF.QUEUED and c.current == c.incoming,
        _duplicate("workflow execution"),
    ),
    Rule(
        "event from another cluster",
        lambda c: c.incoming not in (WF.UNDEFINED, WF.QUEUED) and _cluster_mismatch(c),
        _cluster_error,
    ),
    Rule(
        "already terminal",
        lambda c: c.current in WORKFLOW_TERMINAL,
        _terminal_error(lambda c: c.current_name),
    ),
    Rule(
        "running back to queued",
        lambda c: c.current == WF.RUNNING and c.incoming == WF.QUEUED,
        lambda c: FailedPrecondition("Cannot go from RUNNING to QUEUED", field="event.phase"),
    ),
    Rule(
        "aborting to anything but a terminal phase",
        lambda c: c.current == WF.ABORTING and c.incoming not in WORKFLOW_TERMINAL,
        lambda c: FailedPrecondition(f"Invalid phase change from aborting to {c.incoming_name}", field="event.phase"),
    ),
)

NODE_POLICY: Sequence[Rule] = (
    Rule("event from another cluster", _cluster_mismatch, _cluster_error),
    Rule("same phase twice", lambda c: c.current == c.incoming, _duplicate("node execution")),
    # Flyte reports the incoming phase as the "current" one here; clients rely on that string.
    Rule("already terminal", lambda c: c.current in NODE_TERMINAL, _terminal_error(lambda c: c.incoming_name)),
)

TASK_POLICY: Sequence[Rule] = (
    Rule("event from another cluster", _cluster_mismatch, _cluster_error),
    Rule(
        "same phase, not a newer phase version",
        lambda c: c.current == c.incoming and c.current_version >= c.incoming_version,
        lambda c: AlreadyExists(
            f"have already recorded task execution phase {c.incoming_name} (version: {c.incoming_version})",
            field="event.phase_version",
        ),
    ),
    Rule("already terminal", lambda c: c.current in TASK_TERMINAL, _terminal_error(lambda c: c.incoming_name)),
)


def check(policy: Sequence[Rule], change: Change) -> None:
    """Raise the first refusal of the policy, if any."""
    for rule in policy:
        if rule.refuses(change):
            raise rule.error(change)
