"""What node handlers share: storage, plugins, admin, configuration, wake-ups and a literal cache."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from flyteidl_py.core import literals_pb2
from flyteplane.errors import NotFound
from flyteplane.metrics import EngineMetrics
from flyteplane.storage import Storage
from flyteplane.storage.task_credentials import TaskCredentialsIssuer
from plugins.core import Plugin
from propeller.admin_client import AdminClient
from propeller.catalog.client import CatalogClient
from propeller.config import EngineConfig
from propeller.secrets import SecretsStore
from propeller.store import ExecutionState
from propeller.task_tokens import TaskTokenSource


def default_owner() -> str:
    """A lease holder name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def platform_environment(admin_endpoint: str) -> dict[str, str]:
    """What a task process needs to call admin (flytekit's `Config.auto()` reads FLYTE_PLATFORM_*), as Flyte's
    deployments set in every task pod: the endpoint, over plain-text gRPC as admin serves it."""
    return {"FLYTE_PLATFORM_URL": admin_endpoint, "FLYTE_PLATFORM_INSECURE": "true"}


@dataclass(frozen=True)
class EngineSettings:
    """What the engine runs with: its tunables as configured, and the places and names resolved at start."""

    metadata_prefix: str  # <store>/metadata/propeller
    raw_output_prefix: str  # default raw data prefix when the execution names none
    tuning: EngineConfig = field(default_factory=EngineConfig)
    owner: str = field(default_factory=default_owner)  # the name this engine holds leases under
    producer_id: str = "propeller"
    # What every task process is told of the plane (see `platform_environment`).
    platform_environment: Mapping[str, str] = field(default_factory=dict)

    def retry_delay(self, project: str, domain: str, failed_attempts: int) -> float:
        """Seconds a task's next attempt waits once `failed_attempts` of it failed retryably: the retry
        backoff policy of `project`/`domain` (0 by default, Flyte's immediate retry)."""
        policy = self.tuning.retry_backoff
        if policy.base_seconds <= 0 and not policy.overrides:
            return 0.0
        return policy.for_scope(project, domain).delay(failed_attempts)


class Plugins(Protocol):
    """Where the engine finds the plugin of a task (plugins.registry.PluginRegistry, or it measured)."""

    def plugin_for(self, task_type: str, project: str, domain: str) -> Plugin:
        """The plugin that serves `task_type` in `project`/`domain`; FlyteplaneError when none does."""
        ...


@dataclass
class Services:
    storage: Storage
    plugins: Plugins
    admin: AdminClient | None
    settings: EngineSettings
    wake_cb: Callable[[int], None]
    timer_cb: Callable[[int, float], None]
    catalog: CatalogClient | None = None  # None when caching is off
    secrets: SecretsStore | None = None  # what task attempts' secret requests resolve against
    task_tokens: TaskTokenSource | None = None  # what task processes call admin with when auth is on
    # Scoped S3 credentials per attempt (storage.s3.task_credentials.mode sts on an S3 store); None: the store's own.
    task_credentials: TaskCredentialsIssuer | None = None
    metrics: EngineMetrics | None = None  # None when metrics are off
    _literals: dict[str, literals_pb2.LiteralMap] = field(default_factory=dict)
    # Written later (see write_literals_later) and not yet in the store: kept until they are.
    _unwritten: dict[str, literals_pb2.LiteralMap] = field(default_factory=dict)
    _written_later: set[str] = field(default_factory=set)

    def wake(self, record_id: int) -> None:
        self.wake_cb(record_id)

    def wake_later(self, record_id: int, seconds: float) -> None:
        self.timer_cb(record_id, seconds)

    def workflow_dir(self, state: ExecutionState) -> str:
        e = state.ident
        return f"{self.settings.metadata_prefix}/{e.project}-{e.domain}-{e.name}"

    async def read_literals(self, state: ExecutionState, uri: str) -> literals_pb2.LiteralMap:
        """A LiteralMap from the store; written files never change, so they are cached."""
        cached = self._literals.get(uri)
        if cached is None:
            cached = self._unwritten.get(uri)
        if cached is not None:
            return cached
        literals = await self.storage.read_proto(uri, literals_pb2.LiteralMap)
        if len(self._literals) > 10_000:
            self._literals.clear()
        self._literals[uri] = literals
        return literals

    async def read_literals_or_empty(self, state: ExecutionState, uri: str) -> literals_pb2.LiteralMap:
        try:
            return await self.read_literals(state, uri)
        except NotFound:
            return literals_pb2.LiteralMap()

    async def write_literals(self, uri: str, literals: literals_pb2.LiteralMap) -> None:
        await self.storage.write_proto(uri, literals)
        self._literals[uri] = literals

    def write_literals_later(self, state: ExecutionState, uri: str, literals: literals_pb2.LiteralMap) -> None:
        """Queues `literals` for `uri` and returns at once; the round writes everything it queued in one
        go (`settle_writes`) before it saves anything, so no record or event names the object before
        it is in the store. Until then the engine reads it from memory. Only for objects nothing
        outside the engine reads before the round's records are saved (an in-process plugin's inputs
        and outputs): a round of quick nodes then neither waits on the store for each node nor has
        worker threads writing while it computes (they would contend with it for the interpreter)."""
        self._unwritten[uri] = literals
        if len(self._written_later) > 10_000:
            self._written_later.clear()
        self._written_later.add(uri)
        state.derived.unsettled_writes.append((uri, literals))

    def written_in_memory(self, uri: str) -> bool:
        """Whether the engine itself wrote (or is writing) `uri` through `write_literals_later`."""
        return uri in self._unwritten or uri in self._written_later

    async def settle_writes(self, state: ExecutionState) -> None:
        """Writes what `write_literals_later` queued for this execution; raises the first failure
        (the round then fails and is evaluated again from its saved records)."""
        queued = state.derived.unsettled_writes
        if not queued:
            return
        state.derived.unsettled_writes = []
        results = await asyncio.gather(
            *(self.storage.write_proto(uri, literals) for uri, literals in queued), return_exceptions=True
        )
        failure: BaseException | None = None
        for (uri, literals), result in zip(queued, results, strict=True):
            if self._unwritten.get(uri) is literals:
                del self._unwritten[uri]
            if isinstance(result, BaseException):
                failure = failure or result
            else:
                self._literals[uri] = literals
        if failure is not None:
            raise failure
