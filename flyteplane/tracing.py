"""OpenTelemetry traces of the plane: setup, RPC spans, and the deterministic spans of an execution.

Off by default, and then nearly free: every entry point checks one flag (`tracing_on()`) before it
allocates anything. On (`tracing.enabled` in the configuration, or an `OTEL_EXPORTER_OTLP_*ENDPOINT`
in the environment; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off again),
spans go to an OTLP exporter over gRPC or HTTP, configured as the SDK reads the standard
`OTEL_EXPORTER_OTLP_*` variables, with explicit endpoint/protocol from the configuration winning.

An execution outlives any one engine process, so its spans cannot be open Python objects: the
engine records each one when it ends, with the start time it persisted, under ids derived from the
execution id (a hash of project/domain/name, node and attempt). The execution span's context can
thus be rebuilt by any process at any time, and a crashed-and-resumed execution stays one trace.
Its parent is the trace context admin's launch carried (persisted with the execution); without
one the trace id itself is derived from the execution id, as durable engines do.

Outgoing gRPC calls carry the current context as `traceparent` metadata when their channel has the
`propagating()` interceptors (admin's engine client, propeller's admin and DataCatalog clients, the
scheduler's admin client). No task plugin calls out over gRPC yet; an agent plugin (Flyte's agent
service) opens its channel with `interceptors=propagating()` and its calls, made inside the engine's
plugin-call span, join the attempt's trace.

The SDK's tracer provider is process-wide state by OpenTelemetry's design; it is kept here, not in
OpenTelemetry's global, so tests that start several planes in one process may reconfigure it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from flyteplane.config import TracingConfig
from flyteplane.rpc import UnaryCall, UnaryInterceptor

Context = otel_context.Context
Attributes = Mapping[str, str | int | float | bool]

_PROPAGATOR = TraceContextTextMapPropagator()
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
# The ids the next span must take (trace id, span id): set only around `record_span`.
_forced_ids: ContextVar[tuple[int, int] | None] = ContextVar("flyteplane_forced_span_ids", default=None)
# The context of the execution a round is evaluating (set by the engine per round, tracing on only).
_execution: ContextVar[Context | None] = ContextVar("flyteplane_execution_trace", default=None)


class _Tracing:
    """The process's tracer, or None while tracing is off."""

    tracer: trace.Tracer | None = None
    provider: TracerProvider | None = None


_state = _Tracing()


def tracing_on() -> bool:
    return _state.tracer is not None


class _DerivableIds(IdGenerator):
    """Random ids, except for a span whose ids the engine derived from its execution (`record_span`)."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        forced = _forced_ids.get()
        return forced[1] if forced is not None else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        forced = _forced_ids.get()
        return forced[0] if forced is not None else self._random.generate_trace_id()


def wanted(config: TracingConfig, env: Mapping[str, str]) -> bool:
    """Whether the configuration and the standard OTEL_* variables turn tracing on."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return config.enabled or bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _exporter(config: TracingConfig, env: Mapping[str, str]) -> SpanExporter:
    protocol = (
        config.protocol or env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    )
    if protocol in ("http/protobuf", "http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        endpoint = config.endpoint.rstrip("/") + "/v1/traces" if config.endpoint else None
        return HttpExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

    return GrpcExporter(endpoint=config.endpoint or None, insecure=config.insecure)


def configure_tracing(
    config: TracingConfig,
    env: Mapping[str, str] | None = None,
    processor: SpanProcessor | None = None,
) -> bool:
    """Set up (or, when not wanted, turn off) this process's tracing; True when it is on.

    `processor` replaces the OTLP export (tests collect spans in memory with it).
    """
    env = os.environ if env is None else env
    shutdown_tracing()
    if processor is None and not wanted(config, env):
        return False
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or config.service_name})
    provider = TracerProvider(resource=resource, id_generator=_DerivableIds())
    provider.add_span_processor(processor or BatchSpanProcessor(_exporter(config, env)))
    _state.provider = provider
    _state.tracer = provider.get_tracer("flyteplane")
    return True


def shutdown_tracing() -> None:
    """Flush and stop the exporter (blocking for at most the exporter's timeout); tracing is off after."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is not None:
        provider.shutdown()


def force_flush() -> None:
    """Export what has ended so far (blocking: off the event loop)."""
    if _state.provider is not None:
        _state.provider.force_flush()


# ---- propagation -----------------------------------------------------------------------------------


def traceparent() -> str:
    """The W3C traceparent of the current span ("" when none or tracing is off)."""
    if _state.tracer is None:
        return ""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent", "")


def current_trace_id() -> str:
    """The trace id of the current span as 32 hex digits ("" when none)."""
    found = trace.get_current_span().get_span_context()
    return f"{found.trace_id:032x}" if found.is_valid else ""


def traceparent_of(ctx: Context) -> str:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=ctx)
    return carrier.get("traceparent", "")


def extract(carrier: Mapping[str, str]) -> Context:
    return _PROPAGATOR.extract(carrier)


# ---- spans around work in this process ----------------------------------------------------------


@contextmanager
def span(
    name: str, attributes: Attributes | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[trace.Span | None]:
    """A span around the block (None when off), child of the current one or of the current execution's."""
    tracer = _state.tracer
    if tracer is None:
        yield None
        return
    parent = None if trace.get_current_span().get_span_context().is_valid else _execution.get()
    with tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes) as current:
        yield current


def record_span(
    name: str,
    parent: Context | None,
    ids: tuple[int, int],
    start: float,
    end: float,
    attributes: Attributes,
    error: str | None = None,
) -> None:
    """Record a span that already ended (epoch seconds), with the ids the engine derived for it.

    Without a parent the span is a root and takes `ids[0]` as its trace id.
    """
    tracer = _state.tracer
    if tracer is None:
        return
    token = _forced_ids.set(ids)
    try:
        recorded = tracer.start_span(name, context=parent, attributes=attributes, start_time=_nanos(start))
    finally:
        _forced_ids.reset(token)
    if error is not None:
        recorded.set_status(Status(StatusCode.ERROR, error))
    recorded.end(end_time=_nanos(max(end, start)))


def _nanos(seconds: float) -> int:
    return int((seconds or time.time()) * 1e9)


# ---- the derived ids of an execution ------------------------------------------------------------


def derived_id(bits: int, *parts: str) -> int:
    """A non-zero id of `bits` bits from the parts (stable across processes and restarts)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=bits // 8).digest()
    return int.from_bytes(digest, "big") or 1


def execution_ids(project: str, domain: str, name: str, launched_in: str) -> tuple[int, int]:
    """(trace id, span id) of an execution's span: the launch's trace when it came with one."""
    parent = _remote_span_context(launched_in)
    trace_id = parent.trace_id if parent is not None else derived_id(128, project, domain, name)
    return trace_id, derived_id(64, project, domain, name, "execution")


def execution_context(project: str, domain: str, name: str, launched_in: str) -> Context:
    """The context of an execution's span (a parent for its node spans), rebuilt from its ids."""
    parent = _remote_span_context(launched_in)
    trace_id, span_id = execution_ids(project, domain, name, launched_in)
    flags = parent.trace_flags if parent is not None else _SAMPLED
    return _context_of(trace_id, span_id, flags)


def child_ids(parent: Context, *parts: str) -> tuple[int, int]:
    """(trace id, span id) of the child of `parent` named by the parts (a node, an attempt)."""
    own = trace.get_current_span(parent).get_span_context()
    return own.trace_id, derived_id(64, f"{own.span_id:016x}", *parts)


def child_context(parent: Context, *parts: str) -> Context:
    trace_id, span_id = child_ids(parent, *parts)
    return _context_of(trace_id, span_id, trace.get_current_span(parent).get_span_context().trace_flags)


def _context_of(trace_id: int, span_id: int, flags: TraceFlags) -> Context:
    return trace.set_span_in_context(NonRecordingSpan(SpanContext(trace_id, span_id, True, flags)), Context())


def _remote_span_context(launched_in: str) -> SpanContext | None:
    if not launched_in:
        return None
    found = trace.get_current_span(extract({"traceparent": launched_in})).get_span_context()
    return found if found.is_valid else None


@contextmanager
def in_execution(ctx: Context | None) -> Iterator[None]:
    """Make `ctx` the parent of spans started while the engine evaluates its execution."""
    token = _execution.set(ctx)
    try:
        yield
    finally:
        _execution.reset(token)


@contextmanager
def attached(ctx: Context) -> Iterator[None]:
    """Make the span of `ctx` the current one (the parent of spans started inside)."""
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def current_execution() -> Context | None:
    return _execution.get()


# ---- serving requests ----------------------------------------------------------------------------


class RequestSpan:
    """The span of a request this server handles, for the caller to name, describe and mark after the fact.

    A request that creates an execution with no incoming trace context (`roots_execution`) has no
    span until the execution is named (`execution_root`): it then starts, back-dated to the request's
    start, as the root of the trace derived from the execution id. One that ends without naming an
    execution (refused, say) gets an ordinary root span when it is described.
    """

    def __init__(self, name: str, attributes: Attributes, parent: Context | None) -> None:
        self.name = name
        self.attributes: dict[str, str | int | float | bool] = dict(attributes)
        self.parent = parent  # None: waiting for the execution's ids
        self.start_ns = time.time_ns()
        self.span: trace.Span | None = None

    def start(self, ids: tuple[int, int] | None = None) -> trace.Span:
        """The span, started now (back-dated) if it was not yet: with `ids`, as the root of their trace."""
        if self.span is None:
            tracer = _state.tracer
            assert tracer is not None
            token = _forced_ids.set(ids) if ids is not None else None
            try:
                self.span = tracer.start_span(
                    self.name,
                    context=self.parent if self.parent is not None else Context(),
                    kind=SpanKind.SERVER,
                    attributes=self.attributes,
                    start_time=self.start_ns,
                )
            finally:
                if token is not None:
                    _forced_ids.reset(token)
        return self.span


# The request in hand that waits for its execution's ids before it has a span (`RequestSpan`).
_waiting: ContextVar[RequestSpan | None] = ContextVar("flyteplane_request_waiting_for_execution", default=None)


@contextmanager
def server_span(
    name: str, carrier: Mapping[str, str], attributes: Attributes, *, roots_execution: bool = False
) -> Iterator[RequestSpan | None]:
    """The span of a request this server handles (None when off), child of the W3C `traceparent` in
    `carrier` (gRPC metadata, HTTP headers; lower-case keys), or a new trace's root without one.

    With `roots_execution` (the request creates an execution) and no incoming context, the new trace
    is the execution's derived one (`execution_trace_id`), so a console can link it from the id alone.
    """
    if _state.tracer is None:
        yield None
        return
    parent = extract(carrier)
    incoming = trace.get_current_span(parent).get_span_context().is_valid
    request = RequestSpan(name, attributes, parent if incoming or not roots_execution else None)
    if request.parent is not None:
        request.start()
    token = _waiting.set(request if request.parent is None else None)
    try:
        if request.span is not None:
            with trace.use_span(request.span, end_on_exit=False):
                yield request
        else:
            yield request
    finally:
        _waiting.reset(token)
        request.start().end()


def execution_trace_id(project: str, domain: str, name: str) -> str:
    """The trace id (32 hex digits) of an execution whose creator sent no trace context.

    That is the usual case (pyflyte, flytectl, the console and the scheduler send none): admin's
    CreateExecution then roots the trace derived from the execution id, and the engine's spans join it.
    A caller that sent a `traceparent` keeps its own trace, which only the caller knows.
    """
    return f"{derived_id(128, project, domain, name):032x}"


@contextmanager
def execution_root(project: str, domain: str, name: str) -> Iterator[None]:
    """Around the work that follows naming a new execution (its launch): the request that creates it, if it
    waits for the execution's ids (`server_span(roots_execution=True)`), starts now as the root of the
    execution's derived trace and is the current span inside. Otherwise nothing changes."""
    request = _waiting.get()
    if request is None or request.span is not None or _state.tracer is None:
        yield
        return
    ids = (derived_id(128, project, domain, name), derived_id(64, project, domain, name, "created"))
    with trace.use_span(request.start(ids), end_on_exit=False):
        yield


@contextmanager
def execution_span(name: str, project: str, domain: str, execution: str, attributes: Attributes) -> Iterator[None]:
    """A span around the block that roots the trace derived from an execution's id, for a client that names
    the execution before creating it (the scheduler's firing): its CreateExecution, and so the execution,
    then land in the trace `execution_trace_id` gives."""
    tracer = _state.tracer
    if tracer is None:
        yield
        return
    token = _forced_ids.set((derived_id(128, project, domain, execution), RandomIdGenerator().generate_span_id()))
    try:
        started = tracer.start_span(name, context=Context(), attributes=attributes)
    finally:
        _forced_ids.reset(token)
    with trace.use_span(started, end_on_exit=True):
        yield


class TracingInterceptor(UnaryInterceptor):
    """A server span per unary RPC, child of the `traceparent` the caller sent (when tracing is on).

    `roots_execution`: the RPCs (`/package.Service/Method`) that create an execution (`server_span`)."""

    def __init__(self, roots_execution: frozenset[str] = frozenset()) -> None:
        self.roots_execution = roots_execution

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        service, _, name = method.lstrip("/").rpartition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        roots = method in self.roots_execution

        async def traced(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            if _state.tracer is None:
                return await call(request, context)
            metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
            with server_span(f"{service}/{name}", metadata, attributes, roots_execution=roots) as current:
                assert current is not None
                try:
                    return await call(request, context)
                finally:
                    code = context.code()
                    if code is not None:
                        status = code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
                        span = current.start()
                        span.set_attribute("rpc.grpc.status_code", status.value[0])
                        if status != grpc.StatusCode.OK:
                            span.set_status(Status(StatusCode.ERROR, status.name))

        return traced


class _PropagateTrace(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        parent = traceparent() or (traceparent_of(ctx) if (ctx := _execution.get()) is not None else "")
        if parent:
            metadata = grpc.aio.Metadata(*(details.metadata or ()))
            metadata.add("traceparent", parent)
            details = grpc.aio.ClientCallDetails(
                details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
            )
        return await continuation(details, request)


def propagating() -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors that send the current trace context (`traceparent`); none while tracing is off."""
    return [_PropagateTrace()] if tracing_on() else []


def traced(roots_execution: frozenset[str] = frozenset()) -> list[grpc.aio.ServerInterceptor]:
    """Server interceptors that make a span per RPC; none while tracing is off (an RPC then pays nothing).

    `roots_execution`: the RPCs that create an execution (`server_span`)."""
    return [TracingInterceptor(roots_execution)] if tracing_on() else []


__all__ = [
    "RequestSpan",
    "TracingInterceptor",
    "attached",
    "child_context",
    "child_ids",
    "configure_tracing",
    "current_execution",
    "current_trace_id",
    "derived_id",
    "execution_context",
    "execution_ids",
    "execution_root",
    "execution_span",
    "execution_trace_id",
    "extract",
    "force_flush",
    "in_execution",
    "propagating",
    "record_span",
    "server_span",
    "shutdown_tracing",
    "span",
    "traced",
    "traceparent",
    "traceparent_of",
    "tracing_on",
    "wanted",
]
