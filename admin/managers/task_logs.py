"""Finding a task attempt's log: the attempt admin stores, and a file inside the log roots or a pod's container.

An attempt's log is named by what the engine reported for it: the local plugin's `work_dir` (custom
info), its generated name (an attempt directory under the local plugin's work directory) and its
`file://` TaskLog links (the copy in a local store). Any of them is used only once it resolves,
links followed, to a regular file inside one of the configured roots: events are written by the
engine, but admin never reads a path just because an event names it. A Kubernetes backend's attempt
names its pod in its log context (Flyte's `LogContext`: namespace, pod, primary container); admin
reads that pod's log only from the API server configured for the backend the events name.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from admin.managers.context import AdminContext
from admin.managers.ids import check_execution_id, require
from admin.managers.transitions import TASK_TERMINAL
from admin.models import TaskExecution
from admin.pod_logs import PodContainer
from admin.repositories import executions, node_executions, task_executions
from flyteidl_py.admin import task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import InvalidArgument, NotFound

# Namespaces, pod and container names are DNS-1123 labels or subdomains, at most 253 characters.
_KUBE_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")

# The local plugin's log file in an attempt directory (plugins.local.backend.LOG_FILE; admin does not import plugins).
LOCAL_LOG_FILE = "task.log"


@dataclass(frozen=True)
class LogQuery:
    """Which attempt's log: a node of an execution, a retry attempt (None: the latest), a map element (None: none)."""

    execution: identifier_pb2.WorkflowExecutionIdentifier
    node_id: str
    attempt: int | None = None
    index: int | None = None


@dataclass(frozen=True)
class AttemptLog:
    """The attempt a query named, its phase, and its log: a file here, or a pod's container (None: none admin
    may read)."""

    attempt: int
    phase: core.TaskExecution.Phase
    path: Path | None
    pod: PodContainer | None = None

    @property
    def phase_name(self) -> str:
        return core.TaskExecution.Phase.Name(self.phase)

    @property
    def terminal(self) -> bool:
        return self.phase in TASK_TERMINAL


def check_query(query: LogQuery) -> None:
    """INVALID_ARGUMENT naming the parameter, as the REST gateway and gRPC check identifiers."""
    check_execution_id(query.execution, "id")
    require(query.node_id, "node_id")
    if query.attempt is not None and query.attempt < 0:
        raise InvalidArgument("must not be negative", field="attempt")
    if query.index is not None and query.index < 0:
        raise InvalidArgument("must not be negative", field="index")


class TaskLogs:
    """Finds attempts' logs in admin's records; see the module docstring."""

    def __init__(self, ctx: AdminContext, roots: Sequence[Path], task_dirs: Sequence[Path]) -> None:
        self.ctx = ctx
        self._roots = [Path(os.path.realpath(root.expanduser())) for root in roots]
        self._task_dirs = [directory.expanduser() for directory in task_dirs]

    async def find(self, query: LogQuery) -> AttemptLog:
        """The attempt `query` names and its readable log; NotFound naming the execution, node or attempt missing."""
        check_query(query)
        ident = query.execution
        async with self.ctx.db.session() as session:
            execution = await executions.get(session, ident)
            node = await node_executions.find(session, execution.id, query.node_id)
            if node is None:
                raise NotFound(f"node {query.node_id} of execution {ident.name} not found", field="node_id")
            rows = await task_executions.of_nodes(session, [node.id])
        if query.index is None:
            attempt, phase, candidates, pod = self._of_attempt(rows, query)
        else:
            attempt, phase, candidates, pod = self._of_element(rows, query, query.index)
        path = await asyncio.to_thread(self._readable, candidates)
        return AttemptLog(attempt, phase, path, pod)

    def _of_attempt(
        self, rows: Sequence[TaskExecution], query: LogQuery
    ) -> tuple[int, core.TaskExecution.Phase, list[Path], PodContainer | None]:
        if not rows:
            raise NotFound(f"node {query.node_id} has no task attempt (yet)", field="attempt")
        wanted = query.attempt if query.attempt is not None else max(r.retry_attempt for r in rows)
        row = next((r for r in rows if r.retry_attempt == wanted), None)
        if row is None:
            raise NotFound(f"attempt {wanted} of node {query.node_id} not found", field="attempt")
        closure = task_execution_pb2.TaskExecutionClosure.FromString(row.closure)
        candidates: list[Path] = []
        work_dir = closure.custom_info.fields.get("work_dir")
        if work_dir is not None and work_dir.string_value:
            candidates.append(Path(work_dir.string_value) / LOCAL_LOG_FILE)
        candidates.extend(self._in_task_dirs(closure.metadata.generated_name))
        candidates.extend(_file_paths(log.uri for log in closure.logs))
        pod = _primary_container(closure.metadata.plugin_identifier, closure.log_context)
        return wanted, closure.phase, candidates, pod

    def _of_element(
        self, rows: Sequence[TaskExecution], query: LogQuery, index: int
    ) -> tuple[int, core.TaskExecution.Phase, list[Path], PodContainer | None]:
        resources: list[tuple[str, event_pb2.ExternalResourceInfo]] = []
        for row in sorted(rows, key=lambda r: r.retry_attempt):
            closure = task_execution_pb2.TaskExecutionClosure.FromString(row.closure)
            resources.extend(
                (closure.metadata.plugin_identifier, resource)
                for resource in closure.metadata.external_resources
                if resource.index == index
            )
        if not resources:
            raise NotFound(f"element {index} of node {query.node_id} not found", field="index")
        wanted = query.attempt if query.attempt is not None else max(r.retry_attempt for _, r in resources)
        found = next(((b, r) for b, r in reversed(resources) if r.retry_attempt == wanted), None)
        if found is None:
            raise NotFound(f"attempt {wanted} of element {index} of node {query.node_id} not found", field="attempt")
        backend, resource = found
        candidates = [*self._in_task_dirs(resource.external_id), *_file_paths(log.uri for log in resource.logs)]
        return wanted, resource.phase, candidates, _primary_container(backend, resource.log_context)

    def _in_task_dirs(self, generated_name: str) -> list[Path]:
        # A generated name is one path segment; anything else is not an attempt directory's name.
        if not generated_name or "/" in generated_name or generated_name in (".", ".."):
            return []
        return [directory / generated_name / LOCAL_LOG_FILE for directory in self._task_dirs]

    def _readable(self, candidates: Iterable[Path]) -> Path | None:
        """The first candidate that is a regular file inside a root, links resolved (blocking: call in a thread)."""
        for candidate in candidates:
            real = Path(os.path.realpath(candidate))
            if any(real.is_relative_to(root) for root in self._roots) and real.is_file():
                return real
        return None


def _primary_container(backend: str, context: core.LogContext) -> PodContainer | None:
    """The primary pod's primary container a log context names (its first pod and container when it names none)."""
    pods = list(context.pods)
    pod = next((p for p in pods if p.pod_name == context.primary_pod_name), pods[0] if pods else None)
    if pod is None or not backend or not pod.namespace or not pod.pod_name:
        return None
    container = pod.primary_container_name or next((c.container_name for c in pod.containers), "")
    # Kubernetes names only: they go into the API server's URL path.
    if not all(_KUBE_NAME.fullmatch(name) for name in (pod.namespace, pod.pod_name, container)):
        return None
    return PodContainer(backend, pod.namespace, pod.pod_name, container)


def _file_paths(uris: Iterable[str]) -> list[Path]:
    paths = []
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
            paths.append(Path(unquote(parts.path)))
    return paths
