"""How admin hands executions to the engine: the WorkflowEngine interface and an in-process recorder.

Admin never imports propeller's executor: it launches and aborts through this interface, whose
production implementation talks gRPC to `flyteplane serve propeller`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import compiler_pb2, identifier_pb2


@dataclass(frozen=True)
class Launch:
    """Everything the engine needs to run an execution; admin has persisted it all before launching."""

    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    closure: compiler_pb2.CompiledWorkflowClosure
    inputs_uri: str
    spec: execution_pb2.ExecutionSpec  # resolved: max parallelism, raw output prefix, envs, labels, ...
    launch_plan_id: identifier_pb2.Identifier | None = None


class WorkflowEngine(Protocol):
    async def launch(self, launch: Launch) -> None:
        """Start the execution; must be idempotent (a retried launch of the same id is a no-op)."""

    async def abort(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        """Stop the execution; the engine reports the final ABORTED phase through an event."""


@dataclass
class RecordingEngine:
    """Records launches and aborts without running anything (admin tests; `serve admin` with no engine)."""

    launches: list[Launch] = field(default_factory=list)
    aborts: list[tuple[identifier_pb2.WorkflowExecutionIdentifier, str]] = field(default_factory=list)

    async def launch(self, launch: Launch) -> None:
        self.launches.append(launch)

    async def abort(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        self.aborts.append((execution_id, cause))
