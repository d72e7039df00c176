"""Tracing's switch (config and OTEL_* variables), its cost when off, and the ids an execution's spans derive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flyteplane import tracing
from flyteplane.config import TracingConfig

LAUNCH = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure_tracing(TracingConfig(), env={}, processor=SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()


def test_tracing_is_off_by_default() -> None:
    assert not tracing.configure_tracing(TracingConfig(), env={})
    assert not tracing.tracing_on()
    assert tracing.traced() == [] and tracing.propagating() == []


def test_an_otlp_endpoint_in_the_environment_turns_tracing_on() -> None:
    assert tracing.wanted(TracingConfig(), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"})
    assert tracing.wanted(TracingConfig(enabled=True), {})


def test_the_standard_variables_turn_tracing_off_whatever_the_configuration_says() -> None:
    assert not tracing.wanted(TracingConfig(enabled=True), {"OTEL_SDK_DISABLED": "true"})
    assert not tracing.wanted(TracingConfig(enabled=True), {"OTEL_TRACES_EXPORTER": "none"})


def test_spans_are_no_ops_while_tracing_is_off() -> None:
    with tracing.span("nothing") as current:
        assert current is None
    assert tracing.traceparent() == ""


def test_an_execution_without_a_launch_context_derives_its_trace_id_from_its_id() -> None:
    first = tracing.execution_ids("p", "d", "run-1", "")
    again = tracing.execution_ids("p", "d", "run-1", "")
    other = tracing.execution_ids("p", "d", "run-2", "")

    assert first == again
    assert first[0] != other[0]


def test_an_execution_launched_in_a_trace_stays_in_it() -> None:
    trace_id, _ = tracing.execution_ids("p", "d", "run-1", LAUNCH)

    assert trace_id == 0x0AF7651916CD43DD8448EB211C80319C


def test_node_and_attempt_contexts_are_rebuilt_identically_by_any_process() -> None:
    execution = tracing.execution_context("p", "d", "run-1", LAUNCH)
    attempt = tracing.child_context(tracing.child_context(execution, "node", "n0"), "attempt", "1")
    rebuilt = tracing.child_context(
        tracing.child_context(tracing.execution_context("p", "d", "run-1", LAUNCH), "node", "n0"), "attempt", "1"
    )

    assert tracing.traceparent_of(attempt) == tracing.traceparent_of(rebuilt)
    assert tracing.traceparent_of(attempt).startswith("00-0af7651916cd43dd8448eb211c80319c-")


def test_a_recorded_span_takes_the_ids_derived_for_it(exported: InMemorySpanExporter) -> None:
    execution = tracing.execution_context("p", "d", "run-1", "")
    ids = tracing.child_ids(execution, "node", "n0")

    tracing.record_span("node n0", execution, ids, 100.0, 102.5, {"flyte.node": "n0"})

    (span,) = exported.get_finished_spans()
    assert span.context is not None and span.parent is not None
    assert (span.context.trace_id, span.context.span_id) == ids
    assert span.parent.span_id == trace.get_current_span(execution).get_span_context().span_id
    assert (span.start_time, span.end_time) == (100_000_000_000, 102_500_000_000)


def test_a_root_execution_span_takes_the_derived_trace_id(exported: InMemorySpanExporter) -> None:
    ids = tracing.execution_ids("p", "d", "run-1", "")

    tracing.record_span("execution p/d/run-1", None, ids, 1.0, 2.0, {})

    (span,) = exported.get_finished_spans()
    assert span.context is not None and (span.context.trace_id, span.context.span_id) == ids
    assert span.parent is None
