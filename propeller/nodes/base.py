"""The node-handler contract: what a handler sees (NodeContext), returns (NodeResult) and implements
(NodeHandler), how it runs the graphs its node contains (ScopeRunner), and which handler serves a node
(NodeHandlers)."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2, workflow_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import FlyteplaneError
from propeller.scope import END, START, Placement, Scope
from propeller.services import Services
from propeller.status import NodeStatus
from propeller.store import ExecutionState


class Outcome(enum.Enum):
    RUNNING = "running"
    DYNAMIC_RUNNING = "dynamic_running"
    SUCCESS = "success"
    RETRYABLE_FAILURE = "retryable_failure"
    FAILURE = "failure"
    TIMED_OUT = "timed_out"
    SKIP = "skip"


@dataclass
class NodeResult:
    """A handler's verdict for this round, and what the node event should carry."""

    outcome: Outcome
    error: core.ExecutionError | None = None
    output_uri: str = ""
    wake_after: float | None = None  # re-evaluate after this many seconds (timers, polling)
    workflow_node_metadata: event_pb2.WorkflowNodeMetadata | None = None
    task_node_metadata: event_pb2.TaskNodeMetadata | None = None
    target_entity: identifier_pb2.Identifier | None = None  # the task or launch plan the node runs
    is_parent: bool = False
    is_dynamic: bool = False
    is_array: bool = False
    deck_uri: str = ""

    @staticmethod
    def fail(code: str, message: str, *, system: bool = False, retryable: bool = False) -> NodeResult:
        kind = core.ExecutionError.SYSTEM if system else core.ExecutionError.USER
        return NodeResult(
            Outcome.RETRYABLE_FAILURE if retryable else Outcome.FAILURE,
            error=core.ExecutionError(code=code, message=message, kind=kind),
        )


@dataclass(frozen=True)
class ScopeResult:
    """Where a scope stands after this round's passes."""

    done: bool
    error: core.ExecutionError | None = None
    timed_out: bool = False
    progressed: bool = False

    @property
    def failed(self) -> bool:
        return self.done and self.error is not None


UNLIMITED = 1 << 30
# How soon a node that waits on admin (a gate's signal, a child execution) asks again.
POLL_SECONDS = 1.0


@dataclass
class RoundBudget:
    """What a round may still start, shared by every scope it evaluates (nested graphs run within it)."""

    slots: int = UNLIMITED  # free slots of the execution's max parallelism
    started: int = 0  # nodes started this round, across nested scopes
    # When the round stops starting nodes and making further passes (time.monotonic()); what is left is the
    # next round's.
    until: float = math.inf
    # A scope stopped for the round's limits (nodes, time) with nodes it could still move: the next round
    # comes at once. Scopes nested in a node report it here, since their node's phase does not change.
    more: bool = False


@dataclass(frozen=True)
class AttemptLimits:
    """A node's own bounds on its attempts beyond its metadata's (a task template's retries and timeout)."""

    retries: int | None = None
    timeout: float = 0.0  # seconds; 0 = none
    # Whether a retry waits as the engine's retry backoff policy says (task attempts do; the default is no wait).
    backs_off: bool = False


NO_LIMITS = AttemptLimits()


@dataclass
class NodeContext:
    """One node of one scope in one round."""

    services: Services
    state: ExecutionState
    scope: Scope
    node: workflow_pb2.Node
    key: str  # the node's record key in the execution's state
    status: NodeStatus
    unique_id: str  # id in events and storage
    data_dir: str  # inputs.pb lives here
    now: float
    budget: RoundBudget  # the round's, when the node is evaluated; a fresh one for an abort

    @property
    def output_dir(self) -> str:
        return f"{self.data_dir}/{self.status.attempts}"

    @property
    def inputs_uri(self) -> str:
        return f"{self.data_dir}/inputs.pb"

    @property
    def outputs_uri(self) -> str:
        return f"{self.output_dir}/outputs.pb"

    def log_fields(self) -> dict[str, str | int]:
        """Whose a line logged while the node is evaluated is (flyteplane.logs.LogSource)."""
        return {**self.state.log_fields(), "node": self.unique_id, "attempt": self.status.attempts}

    def touch(self) -> None:
        self.state.touch(self.key)

    async def read_inputs(self) -> literals_pb2.LiteralMap:
        return await self.services.read_literals(self.state, self.inputs_uri)

    def wake(self) -> None:
        self.services.wake(self.state.record_id)

    def child_placement(self) -> Placement:
        """Where a graph this node's current attempt runs keeps its records (under the node's key and
        attempt) and its data (under the attempt's output dir); it sees the enclosing tasks and sub-workflows."""
        return Placement(
            key_prefix=f"{self.key}/{self.status.attempts}/",
            data_root=self.output_dir,
            top_level=False,
            parent_unique_id=self.unique_id,
            parent_attempt=self.status.attempts,
            tasks=self.scope.tasks,
            sub_workflows=self.scope.sub_workflows,
            in_dynamic_chain=self.scope.in_dynamic_chain,
        )

    def nested_scope(self, tag: str, build: Callable[[], Scope]) -> Scope:
        """The graph this node's current attempt runs (sub-workflow, branch child, dynamic workflow),
        built once per loaded execution: the same object round after round keeps its frontier."""
        found = self.known_scope(tag)
        if found is not None:
            return found
        scope = self.state.derived.scopes[f"{self.key}/{self.status.attempts}/{tag}"] = build()
        return scope

    def known_scope(self, tag: str) -> Scope | None:
        return self.state.derived.scopes.get(f"{self.key}/{self.status.attempts}/{tag}")


class ScopeRunner(Protocol):
    """Runs the graphs nodes contain (sub-workflows, a branch's chosen child, dynamic workflows). Handed
    to the handlers of those node kinds when they are made, as Flyte hands them its node executor."""

    async def run_scope(self, state: ExecutionState, scope: Scope, budget: RoundBudget) -> ScopeResult: ...

    async def abort_scope(self, state: ExecutionState, scope: Scope, reason: str, *, final: bool) -> None: ...

    async def read_outputs(self, state: ExecutionState, scope: Scope, node_id: str) -> literals_pb2.LiteralMap: ...


class NodeHandler(Protocol):
    """What the executor calls for a node of one kind. Handlers subclass it explicitly and inherit the
    no-op defaults of what their kind does not need."""

    # Whether starting the node takes a slot of the execution's max parallelism.
    counts_for_parallelism: bool

    async def handle(self, ctx: NodeContext) -> NodeResult:
        """Advance the node (idempotently) and say where it stands."""
        ...

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        """Stop the node's work (its plugin's task, its child execution, its nested graph)."""
        return None

    async def finalize(self, ctx: NodeContext) -> None:
        """Release what the node's current attempt holds, once it is done."""
        return None

    def reset(self, ctx: NodeContext) -> None:
        """Forget kind-specific state before a new attempt."""
        return None

    def limits(self, ctx: NodeContext) -> AttemptLimits:
        """Bounds on the node's attempts that its kind adds to the node's metadata."""
        return NO_LIMITS

    def inputs_in_memory(self, ctx: NodeContext) -> bool:
        """Whether the node's inputs.pb may be written with the round's other queued objects (see
        Services.write_literals_later) rather than before the node starts."""
        return False


class UnknownNodeKind(FlyteplaneError):
    """A node whose target is none of the kinds the engine runs."""

    def __init__(self, node: workflow_pb2.Node) -> None:
        super().__init__(f"node {node.id!r} has no target the engine can run ({node.WhichOneof('target')})")


@dataclass(frozen=True)
class NodeHandlers:
    """One handler per node kind; the executor chooses among them by the node's target and nothing else."""

    start: NodeHandler
    end: NodeHandler
    task: NodeHandler
    branch: NodeHandler
    subworkflow: NodeHandler
    launchplan: NodeHandler
    gate: NodeHandler
    array: NodeHandler

    def for_node(self, node: workflow_pb2.Node) -> NodeHandler:
        if node.id == START:
            return self.start
        if node.id == END:
            return self.end
        match node.WhichOneof("target"):
            case "task_node":
                return self.task
            case "workflow_node":
                if node.workflow_node.WhichOneof("reference") == "sub_workflow_ref":
                    return self.subworkflow
                return self.launchplan
            case "branch_node":
                return self.branch
            case "gate_node":
                return self.gate
            case "array_node":
                return self.array
        raise UnknownNodeKind(node)

    def intercepted(self, wrap: Callable[[str, NodeHandler], NodeHandler]) -> NodeHandlers:
        """The same handlers, each wrapped by `wrap(kind name, handler)` (e.g. to measure its calls)."""
        return NodeHandlers(
            start=wrap("start", self.start),
            end=wrap("end", self.end),
            task=wrap("task", self.task),
            branch=wrap("branch", self.branch),
            subworkflow=wrap("subworkflow", self.subworkflow),
            launchplan=wrap("launchplan", self.launchplan),
            gate=wrap("gate", self.gate),
            array=wrap("array", self.array),
        )
