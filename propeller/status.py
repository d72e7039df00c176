"""The engine's durable view of an execution: one record per node (flat, keyed by path), JSON-encoded.

Nested nodes (sub-workflow, branch, dynamic children) live under their parent's key:
`n2`, `n2/0/n0` (sub-workflow child of n2 at attempt 0). Array elements are stored compactly inside
the array node's record. Only records touched in a round are written back.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any


class NodePhase(enum.IntEnum):
    NOT_STARTED = 0
    QUEUED = 1
    RUNNING = 2
    FAILING = 3
    SUCCEEDING = 4
    SUCCEEDED = 5
    FAILED = 6
    SKIPPED = 7
    RETRYABLE_FAILURE = 8
    TIMING_OUT = 9
    TIMED_OUT = 10
    DYNAMIC_RUNNING = 11
    RECOVERED = 12
    ABORTED = 13

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        return self in (NodePhase.SUCCEEDED, NodePhase.RECOVERED, NodePhase.SKIPPED)


_TERMINAL = frozenset(
    {
        NodePhase.SUCCEEDED,
        NodePhase.FAILED,
        NodePhase.SKIPPED,
        NodePhase.TIMED_OUT,
        NodePhase.RECOVERED,
        NodePhase.ABORTED,
    }
)


class WorkflowPhase(enum.IntEnum):
    READY = 0
    RUNNING = 1
    SUCCEEDING = 2
    SUCCEEDED = 3
    FAILING = 4
    FAILED = 5
    ABORTED = 6
    # Running the workflow's failure node after it failed (Flyte's HandlingFailureNode); the original
    # error is kept in the execution's record meanwhile.
    HANDLING_FAILURE_NODE = 7

    @property
    def is_terminal(self) -> bool:
        return self in (WorkflowPhase.SUCCEEDED, WorkflowPhase.FAILED, WorkflowPhase.ABORTED)


@dataclass
class NodeStatus:
    """One node's execution state. `error` is a serialized core.ExecutionError (base64 in JSON)."""

    phase: int = NodePhase.NOT_STARTED
    attempts: int = 0
    system_failures: int = 0
    queued_at: float = 0.0
    started_at: float = 0.0
    attempt_started_at: float = 0.0
    stopped_at: float = 0.0
    # After a retryable failure: the next attempt starts no earlier than this (epoch seconds; 0 = at once).
    # Persisted before the wait so that an engine that restarts meanwhile waits only the remainder.
    retry_not_before: float = 0.0
    error: bytes = b""
    message: str = ""
    # task nodes: plugin phase/version/state of the current attempt, and the last task event sent
    plugin_phase: int = -1
    plugin_version: int = 0
    plugin_state: bytes = b""
    task_event: list[int] = field(default_factory=list)  # [phase, version] last reported
    # kind-specific
    branch_child: str = ""  # the selected branch child node id
    dynamic_phase: int = 0  # 0 none, 1 parent finalizing, 2 executing, 3 failing
    dynamic_closure_uri: str = ""
    child_execution: str = ""  # launch-plan node: child execution name
    signal_created: bool = False
    # sub-workflow nodes: the sub-workflow failed and its failure node runs (its error is in `error`)
    handling_failure_node: bool = False
    cache_status: int = 0
    # array nodes: per element phase / attempts / plugin phase+version+state (compact lists)
    array_phase: int = 0  # 0 none, 1 executing, 2 failing, 3 succeeding
    array_size: int = 0
    element_phase: list[int] = field(default_factory=list)
    element_attempts: list[int] = field(default_factory=list)
    # [plugin phase, version, state (base64), cache status]; records older than element caching lack the last
    element_plugin: list[list[int | str]] = field(default_factory=list)
    array_event_version: int = 0
    # index (as a string: JSON keys) -> the element's own error message, for the first elements to fail
    element_errors: dict[str, str] = field(default_factory=dict)
    # index -> when the element's next attempt may start (the retry backoff; see `retry_not_before`)
    element_not_before: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> bytes:
        # Shallow on purpose: `asdict` would deep-copy an array node's element lists on every save.
        data = {k: v for k in _FIELDS if (v := getattr(self, k)) != _DEFAULTS[k]}
        for key in ("error", "plugin_state"):
            if key in data:
                data[key] = base64.b64encode(data[key]).decode()
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> NodeStatus:
        data = json.loads(raw) if raw else {}
        for key in ("error", "plugin_state"):
            if key in data:
                data[key] = base64.b64decode(data[key])
        return cls(**data)

    @property
    def node_phase(self) -> NodePhase:
        return _NODE_PHASES[self.phase]


_NODE_PHASES = tuple(sorted(NodePhase))  # indexed by value: cheaper than NodePhase(value) on the hot path
assert all(phase.value == index for index, phase in enumerate(_NODE_PHASES))
_DEFAULTS: dict[str, Any] = asdict(NodeStatus())
_FIELDS = tuple(_DEFAULTS)
