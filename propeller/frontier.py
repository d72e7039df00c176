"""The part of a scope a pass visits, kept from round to round so a round costs the active frontier.

A scope's nodes are, at any time, in exactly one of four places: waiting for in-scope upstream nodes
(with the number still unfinished), ready (released, not started yet), running (started, not
finished), or finished. The frontier is built once from the node records when a scope is first
evaluated for a loaded execution, then moved along by the passes that change the records, so a round
neither rescans a 10,000-node graph nor re-sorts it; nodes only ever move forward through it (a
retried node stays running, nested attempts get keys of their own).

Ready nodes are kept in two lists in graph order: those that take a slot of the execution's
max parallelism (task, array and launch-plan nodes) and those that do not, so a pass whose budget is
spent does not walk the thousands of task nodes it cannot start.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from flyteidl_py.core import workflow_pb2
from propeller.scope import Scope
from propeller.status import NodePhase, NodeStatus

Counts = Callable[[workflow_pb2.Node], bool]
"""Whether starting a node takes a slot of the execution's max parallelism."""

_FAILED = (NodePhase.FAILED, NodePhase.TIMED_OUT)
_ACTIVE = (NodePhase.QUEUED, NodePhase.RUNNING, NodePhase.DYNAMIC_RUNNING)
# A dynamic parent running its generated nodes (DYNAMIC_RUNNING) holds no slot: its task has ended, and the nodes
# it yielded take slots of their own, as on Flyte (whose dynamic handler stops counting once the parent task is
# done). Holding one would let nested dynamics fill max parallelism with waiting parents and never finish.
_HOLDS_SLOT = (NodePhase.QUEUED, NodePhase.RUNNING)


def occupies_slot(status: NodeStatus) -> bool:
    """Whether a node counts against max parallelism: active and handed to its plugin or child (a dynamic
    parent only while its own task runs)."""
    return status.node_phase in _HOLDS_SLOT and bool(
        status.plugin_phase >= 0 or status.array_phase or status.child_execution
    )


@dataclass
class Frontier:
    scope: Scope
    waiting: dict[str, int] = field(default_factory=dict)
    ready_counted: list[str] = field(default_factory=list)
    ready_free: list[str] = field(default_factory=list)
    running: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, nodes: Mapping[str, NodeStatus], scope: Scope, counts: Counts) -> Frontier:
        """The frontier of `scope` given the execution's node records (`nodes`, by key)."""
        frontier = cls(scope)
        key = scope.key
        for node_id in scope.order:
            status = nodes.get(key(node_id))
            phase = status.node_phase if status is not None else NodePhase.NOT_STARTED
            if phase.is_terminal:
                if phase in _FAILED:
                    frontier.failed.append(node_id)
                continue
            if phase != NodePhase.NOT_STARTED:
                frontier.running.add(node_id)
                continue
            blockers = 0
            for up in scope.upstream.get(node_id, ()):
                if up in scope.nodes and up != node_id:
                    up_status = nodes.get(key(up))
                    if up_status is None or not up_status.node_phase.is_terminal:
                        blockers += 1
            if blockers:
                frontier.waiting[node_id] = blockers
            elif counts(scope.nodes[node_id]):
                frontier.ready_counted.append(node_id)
            else:
                frontier.ready_free.append(node_id)
        return frontier

    @property
    def has_ready(self) -> bool:
        return bool(self.ready_counted or self.ready_free)

    def finished(self, node_id: str, phase: NodePhase, counts: Counts) -> None:
        """Record that `node_id` reached terminal `phase`; release what it was the last blocker of."""
        self.running.discard(node_id)
        if phase in _FAILED:
            self.failed.append(node_id)
        scope = self.scope
        for down in scope.downstream.get(node_id, ()):
            left = self.waiting.get(down)
            if left is None:
                continue
            if left > 1:
                self.waiting[down] = left - 1
                continue
            del self.waiting[down]
            self._insert(self.ready_counted if counts(scope.nodes[down]) else self.ready_free, down)

    def first_failed(self, nodes: Mapping[str, NodeStatus]) -> NodeStatus | None:
        """The record of the failed node that comes first in graph order, if any failed."""
        if not self.failed:
            return None
        position = self.scope.position
        first = min(self.failed, key=position.__getitem__)
        return nodes.get(self.scope.key(first))

    def any_active(self, nodes: Mapping[str, NodeStatus]) -> bool:
        """Whether a started node is queued or running now."""
        key = self.scope.key
        return any((s := nodes.get(key(n))) is not None and s.node_phase in _ACTIVE for n in self.running)

    def in_order(self, node_ids: Iterable[str]) -> list[str]:
        return sorted(node_ids, key=self.scope.position.__getitem__)

    def _insert(self, ready: list[str], node_id: str) -> None:
        position = self.scope.position
        bisect.insort(ready, node_id, key=position.__getitem__)


__all__ = ["Counts", "Frontier", "occupies_slot"]
