"""The `local` backend's instruments: how attempts start (warm fork, reuse worker, cold) and the warm pool's size."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

# A warm pool's processes: fork servers fork an attempt each; reuse workers run attempts themselves.
SERVER_KINDS = ("fork_server", "reuse_worker")


class LocalMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts_started = Counter(
            "flyteplane_local_attempts_started_total",
            "Task attempts started by the local backend, by how: fork (from a warm fork server), "
            "reuse (in a reuse worker) or cold (a new interpreter).",
            ["how"],
            registry=registry,
        )
        self.servers_started = Counter(
            "flyteplane_local_warm_servers_started_total",
            "Warm processes started (and ready), by kind (fork_server, reuse_worker).",
            ["kind"],
            registry=registry,
        )
        self.servers = Gauge(
            "flyteplane_local_warm_servers",
            "Warm processes alive in the pool, by kind (fork_server, reuse_worker).",
            ["kind"],
            registry=registry,
        )
        for kind in SERVER_KINDS:  # exposed at 0 before the first one starts
            self.servers.labels(kind).set(0)
        for how in ("fork", "reuse", "cold"):
            self.attempts_started.labels(how)
