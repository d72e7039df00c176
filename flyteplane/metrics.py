"""Prometheus metrics of a server process: the shared instruments (gRPC, database, object store) and `/metrics`.

Admin serves `/metrics` on its HTTP port by default (`admin.http_metrics`); `flyteplane start` puts every
component's instruments in the same registry, so one scrape covers the plane. `<component>.metrics_port`
adds a separate endpoint, which is how a component run alone (`flyteplane serve ...`) is scraped.

Each server builds its own `MetricsRegistry` (no module-level state, so components can share a
process in tests and still expose separate endpoints); families several components record into
(gRPC, database, object store) are created once per registry, on first use, and labelled by who
records. gRPC metrics follow the names of go-grpc-prometheus, which FlyteAdmin uses; the others are
`flyteplane_<component>_*` or `flyteplane_<database|storage>_*`, seconds and `_total` counters as
Prometheus names them. The endpoint is prometheus_client's threaded HTTP server: scrapes never wait
for a busy event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flyteplane.rpc import UnaryCall, UnaryInterceptor

# Engine work is mostly sub-millisecond; task plugin calls and rounds of big graphs take longer.
# Executions, nodes and attempts last from milliseconds to hours.
_SLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400)
_FAST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class GrpcMetrics:
    """Per-method handling time and outcome codes of a gRPC server."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "grpc_server_started_total",
            "RPCs started on the server.",
            ["grpc_type", "grpc_service", "grpc_method"],
            registry=registry,
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by status code.",
            ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
            registry=registry,
        )
        self.seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time the server took to handle an RPC.",
            ["grpc_type", "grpc_service", "grpc_method"],
            buckets=_FAST_BUCKETS,
            registry=registry,
        )


# Where a connection keeps the start times of its statements in flight and of its open transaction.
_STATEMENTS_STARTED = "flyteplane_statements_started"
_TRANSACTION_STARTED = "flyteplane_transaction_started"
_STATEMENT_KINDS = frozenset({"select", "insert", "update", "delete"})


def statement_kind(statement: str) -> str:
    """select, insert, update, delete (by the statement's first word; WITH counts as select) or other."""
    word = statement.lstrip()[:7].split(None, 1)
    kind = word[0].lower() if word else ""
    if kind == "with":
        return "select"
    return kind if kind in _STATEMENT_KINDS else "other"


class DatabaseMetrics:
    """Statement and transaction time of each component's database, from SQLAlchemy's engine events."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.statement_seconds = Histogram(
            "flyteplane_database_statement_seconds",
            "Time one SQL statement took, by component and kind (select, insert, update, delete, other).",
            ["component", "operation"],
            buckets=_FAST_BUCKETS,
            registry=registry,
        )
        self.transaction_seconds = Histogram(
            "flyteplane_database_transaction_seconds",
            "Time from a transaction's begin to its end, by component and end (commit, rollback).",
            ["component", "operation"],
            buckets=_FAST_BUCKETS,
            registry=registry,
        )

    def watch(self, engine: AsyncEngine, component: str) -> None:
        """Time every statement and transaction of `engine` from now on, as `component`'s."""
        statements = {kind: self.statement_seconds.labels(component, kind) for kind in (*_STATEMENT_KINDS, "other")}
        ends = {end: self.transaction_seconds.labels(component, end) for end in ("commit", "rollback")}

        # The events run in the worker greenlet of the async driver, around the awaited round trip.
        def before(conn: Connection, *_: Any) -> None:
            conn.info.setdefault(_STATEMENTS_STARTED, []).append(time.perf_counter())

        def after(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
            started: list[float] = conn.info.get(_STATEMENTS_STARTED) or []
            if started:
                statements[statement_kind(statement)].observe(time.perf_counter() - started.pop())

        # An invalidated connection (its transaction cancelled or broken) refuses even `.info`: a timing hook
        # must never turn a rollback into an error, so such a connection's timings are dropped with it.
        def failed(context: ExceptionContext) -> None:
            conn = context.connection
            started = conn.info.get(_STATEMENTS_STARTED) if conn is not None and not conn.invalidated else None
            if started and context.statement is not None:
                statements[statement_kind(context.statement)].observe(time.perf_counter() - started.pop())

        def begin(conn: Connection) -> None:
            conn.info[_TRANSACTION_STARTED] = time.perf_counter()

        def end(kind: str) -> Any:
            def ended(conn: Connection) -> None:
                if conn.invalidated:
                    return
                started = conn.info.pop(_TRANSACTION_STARTED, None)
                if started is not None:
                    ends[kind].observe(time.perf_counter() - started)

            return ended

        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", before)
        event.listen(sync, "after_cursor_execute", after)
        event.listen(sync, "handle_error", failed)
        event.listen(sync, "begin", begin)
        event.listen(sync, "commit", end("commit"))
        event.listen(sync, "rollback", end("rollback"))


class StorageMetrics:
    """Time of each object-store operation, by backend (file, s3, gs) and operation (read, write, ...)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            "flyteplane_storage_operation_seconds",
            "Time one object-store operation took (a whole stream for streamed reads and listings), "
            "by backend and operation.",
            ["backend", "operation"],
            buckets=_FAST_BUCKETS,
            registry=registry,
        )


class MetricsRegistry(CollectorRegistry):
    """A process's registry, holding the families several components record into, each created once."""

    @cached_property
    def grpc(self) -> GrpcMetrics:
        return GrpcMetrics(self)

    @cached_property
    def database(self) -> DatabaseMetrics:
        return DatabaseMetrics(self)

    @cached_property
    def storage(self) -> StorageMetrics:
        return StorageMetrics(self)


def watch_database(registry: MetricsRegistry | None, engine: AsyncEngine, component: str) -> None:
    """Time `component`'s statements and transactions into `registry` (nothing without one)."""
    if registry is not None:
        registry.database.watch(engine, component)


class MetricsInterceptor(UnaryInterceptor):
    """Times unary RPCs; put it before the error interceptor so it sees the status that one sets."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self.metrics = metrics

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        service, _, name = method.lstrip("/").rpartition("/")
        labels = ("unary", service, name)
        started = self.metrics.started.labels(*labels)
        seconds = self.metrics.seconds.labels(*labels)
        handled = self.metrics.handled

        async def timed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started.inc()
            begin = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                return await call(request, context)
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except BaseException:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                seconds.observe(time.perf_counter() - begin)
                handled.labels(*labels, code.name).inc()

        return timed


class EngineMetrics:
    """The engine's instruments: rounds, node handlers, plugin calls, the work queue, event delivery."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.round_seconds = Histogram(
            "flyteplane_propeller_round_seconds",
            "Duration of one round (load, evaluate, save, deliver events) of one execution.",
            buckets=_FAST_BUCKETS,
            registry=registry,
        )
        self.node_seconds = Histogram(
            "flyteplane_propeller_node_handle_seconds",
            "Duration of one call of a node handler, by node kind.",
            ["kind"],
            buckets=_FAST_BUCKETS,
            registry=registry,
        )
        self.plugin_seconds = Histogram(
            "flyteplane_propeller_plugin_call_seconds",
            "Duration of one call into a task plugin, by plugin and call.",
            ["plugin", "call"],
            buckets=_FAST_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "flyteplane_propeller_queue_depth", "Executions waiting in the work queue.", registry=registry
        )
        self.executions_taken_over = Counter(
            "flyteplane_propeller_executions_taken_over_total",
            "Executions this process took over because no live process held their lease.",
            registry=registry,
        )
        self.events_delivered = Counter(
            "flyteplane_propeller_events_delivered_total",
            "Events admin acknowledged, by kind (workflow, node, task).",
            ["kind"],
            registry=registry,
        )
        self.executions = Counter(
            "flyteplane_propeller_executions_total",
            "Executions that reached a terminal phase, by phase.",
            ["phase"],
            registry=registry,
        )
        self.execution_seconds = Histogram(
            "flyteplane_propeller_execution_seconds",
            "Duration of an execution from start to its terminal phase, by phase.",
            ["phase"],
            buckets=_SLOW_BUCKETS,
            registry=registry,
        )
        self.node_duration_seconds = Histogram(
            "flyteplane_propeller_node_duration_seconds",
            "Duration of a node from queued to its terminal phase, by phase.",
            ["phase"],
            buckets=_SLOW_BUCKETS,
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            "flyteplane_propeller_task_attempt_seconds",
            "Duration of one task attempt, by outcome (succeeded, failed, retried).",
            ["outcome"],
            buckets=_SLOW_BUCKETS,
            registry=registry,
        )
        self.node_queue_seconds = Histogram(
            "flyteplane_propeller_node_queue_seconds",
            "Time from a node being queued (its inputs ready) to its first running phase.",
            buckets=_SLOW_BUCKETS,
            registry=registry,
        )
        self.cache_lookups = Counter(
            "flyteplane_propeller_cache_lookups_total",
            "Cache lookups of discoverable tasks, by result (CACHE_HIT, CACHE_MISS, ...): the hit ratio's terms.",
            ["status"],
            registry=registry,
        )
        self.event_delivery_lag = Histogram(
            "flyteplane_propeller_event_delivery_lag_seconds",
            "Time from an event's occurrence to admin's acknowledgement of it.",
            buckets=_SLOW_BUCKETS,
            registry=registry,
        )
        self.events_failed = Counter(
            "flyteplane_propeller_events_failed_total",
            "Event deliveries that failed and will be retried, by kind.",
            ["kind"],
            registry=registry,
        )


def metrics_route(registry: CollectorRegistry) -> Route:
    """`GET /metrics` of `registry` for a Starlette app; the page is rendered off the event loop."""

    async def page(_: Request) -> Response:
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", page)


def timed(
    registry: MetricsRegistry | None, *interceptors: grpc.aio.ServerInterceptor
) -> list[grpc.aio.ServerInterceptor]:
    """A server's interceptors, preceded by the timing one when it has metrics."""
    if registry is None:
        return list(interceptors)
    return [MetricsInterceptor(registry.grpc), *interceptors]


@dataclass
class MetricsEndpoint:
    """`GET /metrics` of one registry on its own HTTP port, served from a daemon thread."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.shutdown)
        self.server.server_close()


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> MetricsEndpoint:
    """Start serving `registry` on host:port (0 picks a free port; the configuration's 0 means no endpoint)."""
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsEndpoint(server, thread)
