"""A crashed-and-resumed execution stays one trace: the engine that finishes it rebuilds the ids the first one used.

The first engine records attempt 0 (a `flaky` double fails it) and stops during the retry backoff; a
new engine runs attempt 1 and ends the node and the execution. Every span lands in the trace of
admin's CreateExecution, under the span ids derived from the execution.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flyteidl_py.core import execution_pb2 as core
from flyteplane.config import TracingConfig
from flyteplane.tracing import configure_tracing, shutdown_tracing
from propeller.config import RetryBackoff
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.integration.propeller.test_retry_backoff import _config, _failed_attempt_reported, _flaky_workflow
from tests.support.plane import running_plane


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing(TracingConfig(), env={}, processor=SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        shutdown_tracing()


def _named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


async def test_an_execution_resumed_by_another_engine_stays_one_trace(
    tmp_path: Path, exported: InMemorySpanExporter
) -> None:
    from propeller.server import start_propeller

    async with running_plane(_config(tmp_path, RetryBackoff(base_seconds=2, factor=1), failures=1)) as plane:
        await register(plane.stub, _flaky_workflow("flaky1", retries=1))
        execution = await launch(plane.stub, "flaky1", ints(x=5), name="resumed")
        await _failed_attempt_reported(plane, execution)
        await plane.propeller.stop(0)  # during the wait before attempt 1
        plane.propeller = await start_propeller(plane.config)
        result = await wait(plane.stub, execution)
        await asyncio.sleep(0)  # the round that ended it records its spans right after committing
    assert result.closure.phase == core.WorkflowExecution.SUCCEEDED, result.closure.error.message

    spans = list(exported.get_finished_spans())
    create = _named(spans, "flyteidl.service.AdminService/CreateExecution")
    run = _named(spans, f"execution {execution.project}/{execution.domain}/resumed")
    node = _named(spans, "node n0")
    first, second = _named(spans, "attempt n0/0"), _named(spans, "attempt n0/1")
    assert create.context is not None and run.context is not None and node.context is not None
    trace_id = create.context.trace_id
    assert {s.context.trace_id for s in (run, node, first, second) if s.context is not None} == {trace_id}
    assert node.parent is not None and node.parent.span_id == run.context.span_id
    assert first.parent is not None and second.parent is not None
    assert first.parent.span_id == second.parent.span_id == node.context.span_id
