"""What the client commands show: an execution's node tree read from admin, as a rich tree, as change lines, as JSON.

A snapshot is read top-down: the execution, its top-level nodes, the children of parent nodes
(dynamic, sub-workflow, branch), and each task node's attempts; a map task's elements are counted by
phase from its attempts' external resources (each element's latest retry). A node already terminal
when it was last read is not read again.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from flyteidl_py.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from launcher.client.admin import AdminClient
from launcher.client.target import ExecutionRef

WORKFLOW_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
NODE_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"})
_HIDDEN_NODES = frozenset({"start-node", "end-node"})  # spec node ids of every scope's start and end
# flytekit names a map task after the mapped task and a hash: map_<task>_<32 hex>[-arraynode].
_MAP_TASK = re.compile(r"^map_(?P<task>.+)_[0-9a-f]{32}(?:-arraynode)?$")
STYLES = {
    "SUCCEEDED": "green",
    "RECOVERED": "green",
    "FAILED": "bold red",
    "TIMED_OUT": "red",
    "ABORTED": "yellow",
    "ABORTING": "yellow",
    "FAILING": "red",
    "SKIPPED": "dim",
    "RUNNING": "cyan",
    "DYNAMIC_RUNNING": "cyan",
    "QUEUED": "blue",
}
_BAR_WIDTH = 24


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _started(stamp: Timestamp) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if stamp.seconds or stamp.nanos else None


def _duration(started: datetime | None, duration: Duration, terminal: bool) -> float | None:
    """The recorded duration once terminal; while running, the time since it started."""
    if terminal:
        return round(duration.ToTimedelta().total_seconds(), 3) if duration.seconds or duration.nanos else None
    return round(time.time() - started.timestamp(), 3) if started is not None else None


@dataclass
class NodeView:
    node_id: str
    label: str  # the spec node id where it differs from the node id and, for a task node, the task's short name
    phase: str
    attempts: int = 0
    elements: Counter[str] | None = None  # a map task: element counts by phase
    error: str = ""
    children: list[NodeView] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.phase in NODE_TERMINAL

    def to_json(self) -> dict[str, object]:
        answer: dict[str, object] = {"node_id": self.node_id, "name": self.label, "phase": self.phase}
        if self.attempts:
            answer["attempts"] = self.attempts
        if self.elements is not None:
            answer["elements"] = dict(sorted(self.elements.items()))
        if self.error:
            answer["error"] = self.error
        if self.children:
            answer["children"] = [child.to_json() for child in self.children]
        return answer

    def walk(self) -> list[NodeView]:
        return [self, *(node for child in self.children for node in child.walk())]


@dataclass
class ExecutionView:
    ref: ExecutionRef
    phase: str
    launch_plan: str
    started_at: datetime | None
    duration_seconds: float | None
    error: str
    nodes: list[NodeView]

    @property
    def terminal(self) -> bool:
        return self.phase in WORKFLOW_TERMINAL

    def to_json(self) -> dict[str, object]:
        return {
            "project": self.ref.project,
            "domain": self.ref.domain,
            "name": self.ref.name,
            "phase": self.phase,
            "launch_plan": self.launch_plan,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "duration_seconds": self.duration_seconds,
            "error": self.error or None,
            "nodes": [node.to_json() for node in self.nodes],
        }


def execution_row(execution: execution_pb2.Execution) -> dict[str, object]:
    """One execution as `executions list` shows it (and its JSON)."""
    closure = execution.closure
    phase = core.WorkflowExecution.Phase.Name(closure.phase)
    started = _started(closure.started_at)
    return {
        "project": execution.id.project,
        "domain": execution.id.domain,
        "name": execution.id.name,
        "launch_plan": execution.spec.launch_plan.name,
        "phase": phase,
        "started_at": started.isoformat() if started else None,
        "duration_seconds": _duration(started, closure.duration, phase in WORKFLOW_TERMINAL),
    }


class Snapshots:
    """Reads successive snapshots of one execution, re-reading only what can still change."""

    def __init__(self, admin: AdminClient, ref: ExecutionRef) -> None:
        self.admin, self.ref = admin, ref
        self._settled: dict[str, NodeView] = {}  # nodes read once terminal: they no longer change

    def read(self) -> ExecutionView:
        execution = self.admin.execution(self.ref)
        closure = execution.closure
        phase = core.WorkflowExecution.Phase.Name(closure.phase)
        started = _started(closure.started_at)
        return ExecutionView(
            ref=self.ref,
            phase=phase,
            launch_plan=execution.spec.launch_plan.name,
            started_at=started,
            duration_seconds=_duration(started, closure.duration, phase in WORKFLOW_TERMINAL),
            error=closure.error.message if closure.HasField("error") else "",
            nodes=self._level(""),
        )

    def _level(self, parent: str) -> list[NodeView]:
        nodes = self.admin.nodes(self.ref, parent)
        return [
            self._node(node) for node in nodes if (node.metadata.spec_node_id or node.id.node_id) not in _HIDDEN_NODES
        ]

    def _node(self, node: node_execution_pb2.NodeExecution) -> NodeView:
        node_id = node.id.node_id
        settled = self._settled.get(node_id)
        if settled is not None:
            return settled
        closure = node.closure
        view = NodeView(
            node_id=node_id,
            label=node.metadata.spec_node_id if node.metadata.spec_node_id not in ("", node_id) else "",
            phase=core.NodeExecution.Phase.Name(closure.phase),
            error=closure.error.message if closure.HasField("error") else "",
        )
        if node.metadata.is_parent_node:
            view.children = self._level(node_id)
        if not node.metadata.is_parent_node or node.metadata.is_dynamic:
            self._attempts(view, self.admin.attempts(self.ref, node_id) if closure.phase else [])
        if node.metadata.is_array and view.elements is None:
            view.elements = Counter()
        if view.terminal:
            self._settled[node_id] = view
        return view

    @staticmethod
    def _attempts(view: NodeView, attempts: list[task_execution_pb2.TaskExecution]) -> None:
        if not attempts:
            return
        view.attempts = len(attempts)
        task = attempts[-1].id.task_id.name.rsplit(".", 1)[-1]
        mapped = _MAP_TASK.match(task)
        if mapped is not None:
            task = f"map {mapped['task']}"
        if task:
            view.label = f"{view.label} ({task})".lstrip()
        latest: dict[int, tuple[int, int]] = {}  # element index -> (retry attempt, phase)
        for attempt in attempts:
            for element in attempt.closure.metadata.external_resources:
                known = latest.get(element.index)
                if known is None or element.retry_attempt >= known[0]:
                    latest[element.index] = (element.retry_attempt, element.phase)
        if latest:
            view.elements = Counter(core.TaskExecution.Phase.Name(phase) for _, phase in latest.values())


def error_headline(message: str) -> str:
    """The line of an error message that says what happened: flytekit's after `Message:`, else the last one."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if "Message:" in lines and lines.index("Message:") + 1 < len(lines):
        return lines[lines.index("Message:") + 1][:300]
    return lines[-1][:300] if lines else ""


def _phase(phase: str) -> Text:
    return Text(phase, style=STYLES.get(phase, ""))


def _element_counts(elements: Counter[str]) -> str:
    return ", ".join(f"{count} {phase.lower()}" for phase, count in sorted(elements.items())) or "no elements yet"


def _node_label(node: NodeView) -> RenderableType:
    text = Text.assemble(
        Text(node.node_id, style="bold"), " ", f"{node.label} " if node.label else "", _phase(node.phase)
    )
    if node.attempts > 1:
        text.append(f"  attempt {node.attempts}", style="magenta")
    if node.elements is None:
        if node.error and node.terminal:
            text.append(f"  {error_headline(node.error)}", style="red")
        return text
    total = sum(node.elements.values())
    done = node.elements.get("SUCCEEDED", 0)
    grid = Table.grid(padding=(0, 1))
    grid.add_row(
        text,
        ProgressBar(total=max(total, 1), completed=done, width=_BAR_WIDTH),
        Text(f"{done}/{total}  {_element_counts(node.elements)}"),
    )
    return grid


def render_tree(view: ExecutionView) -> Tree:
    """The live view: the execution, then its nodes as a tree (map tasks with a progress bar)."""
    head = Text.assemble(
        Text(f"{view.ref.project}/{view.ref.domain}/{view.ref.name}", style="bold"),
        f"  {view.launch_plan}  ",
        _phase(view.phase),
        f"  {duration_text(view.duration_seconds)}",
    )
    tree = Tree(head)

    def add(parent: Tree, nodes: list[NodeView]) -> None:
        for node in nodes:
            add(parent.add(_node_label(node)), node.children)

    add(tree, view.nodes)
    if view.terminal and view.error:
        tree.add(Text(error_headline(view.error), style="red"))
    return tree


def _state(node: NodeView) -> str:
    parts = [node.phase]
    if node.attempts > 1:
        parts.append(f"attempt {node.attempts}")
    if node.elements is not None:
        parts.append(f"elements: {_element_counts(node.elements)}")
    return ", ".join(parts)


def change_lines(previous: dict[str, str], view: ExecutionView) -> list[str]:
    """One line per node (and for the execution) whose state changed since `previous`, which is updated."""
    lines = []
    stamp = datetime.now().strftime("%H:%M:%S")
    for node in (node for top in view.nodes for node in top.walk()):
        state = _state(node)
        if previous.get(node.node_id) != state:
            previous[node.node_id] = state
            lines.append(f"{stamp} {' '.join(filter(None, (node.node_id, node.label)))}: {state}")
    execution_state = view.phase
    if previous.get("") != execution_state:
        previous[""] = execution_state
        lines.append(f"{stamp} execution {view.ref.name}: {execution_state}")
    return lines
