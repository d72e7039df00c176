"""What node handlers share: storage, plugins, admin, configuration, wake-ups and a literal cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flyteidl_py.core import literals_pb2
from flyteplane.errors import NotFound
from flyteplane.storage import Storage
from propeller.admin_client import AdminClient
from propeller.store import ExecutionState


@dataclass
class EngineSettings:
    metadata_prefix: str  # <store>/metadata/propeller
    raw_output_prefix: str  # default raw data prefix when the execution names none
    max_system_failures: int = 3
    default_max_attempts: int = 1
    max_passes_per_round: int = 50
    # Nodes a round may start: a wide graph is started in rounds of this many, each committed (and its
    # events on their way to admin) before the next, rather than in one long round.
    max_nodes_per_round: int = 500
    producer_id: str = "propeller"
    cache_heartbeat_seconds: float = 5.0


@dataclass
class Services:
    storage: Storage
    plugins: Any  # plugins.registry.PluginRegistry: plugin_for(task_type, project, domain)
    admin: AdminClient | None
    settings: EngineSettings
    wake_cb: Callable[[int], None]
    timer_cb: Callable[[int, float], None]
    catalog: Any = None  # propeller.catalog.CatalogClient, or None when caching is off
    _literals: dict[str, literals_pb2.LiteralMap] = field(default_factory=dict)

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
