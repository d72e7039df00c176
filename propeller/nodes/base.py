"""What every node handler sees (NodeContext) and returns (NodeResult), and the protocol it implements."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2, workflow_pb2
from flyteidl_py.event import event_pb2
from propeller.scope import Scope
from propeller.status import NodeStatus

if TYPE_CHECKING:
    from propeller.services import Services
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
    target_entity: Any = None
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
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def output_dir(self) -> str:
        return f"{self.data_dir}/{self.status.attempts}"

    @property
    def inputs_uri(self) -> str:
        return f"{self.data_dir}/inputs.pb"

    @property
    def outputs_uri(self) -> str:
        return f"{self.output_dir}/outputs.pb"

    def touch(self) -> None:
        self.state.touch(self.key)

    async def read_inputs(self) -> literals_pb2.LiteralMap:
        return await self.services.read_literals(self.state, self.inputs_uri)

    def wake(self) -> None:
        self.services.wake(self.state.record_id)

    def nested_scope(self, tag: str, build: Callable[[], Scope]) -> Scope:
        """The graph this node's current attempt runs (sub-workflow, branch child, dynamic workflow),
        built once per loaded execution: the same object round after round keeps its frontier."""
        found = self.known_scope(tag)
        if found is not None:
            return found
        scope = self.state.derived[f"scope:{self.key}/{self.status.attempts}/{tag}"] = build()
        return scope

    def known_scope(self, tag: str) -> Scope | None:
        found = self.state.derived.get(f"scope:{self.key}/{self.status.attempts}/{tag}")
        return found if isinstance(found, Scope) else None


class NodeHandler(Protocol):
    counts_for_parallelism: bool

    async def handle(self, ctx: NodeContext) -> NodeResult: ...

    async def abort(self, ctx: NodeContext, reason: str) -> None: ...

    async def finalize(self, ctx: NodeContext) -> None: ...

    def reset(self, ctx: NodeContext) -> None:
        """Forget kind-specific state before a new attempt."""


HandlerFor = Callable[[workflow_pb2.Node], NodeHandler]
ReadOutputs = Callable[[str], Awaitable[literals_pb2.LiteralMap]]
