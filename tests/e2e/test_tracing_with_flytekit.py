"""One trace from `pyflyte run --remote` to the task process: admin's RPC, the execution, nodes, attempts, the task.

A real OTLP receiver listens on loopback; the plane exports to it over gRPC with the OpenTelemetry
SDK, and the task (in its own process, real flytekit) sends a span under the TRACEPARENT it was
given. The spans must form one tree in one trace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteplane.config import TracingConfig
from flyteplane.tracing import configure_tracing, execution_trace_id, force_flush, shutdown_tracing
from tests.support.flytekit import Flytekit
from tests.support.otlp import ReceivedSpan, Receiver, otlp_receiver
from tests.support.plane import RunningPlane, local_plane_config, running_plane

TRACED = Path(__file__).with_name("traced")
RUN = "traced-run-1"


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    async with otlp_receiver() as running:
        yield running


@pytest.fixture(scope="module")
async def traced_plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, receiver: Receiver
) -> AsyncIterator[RunningPlane]:
    # Before the servers start: they pick their interceptors by whether tracing is on.
    configure_tracing(TracingConfig(enabled=True, endpoint=receiver.grpc_endpoint, protocol="grpc"), env={})
    try:
        config = local_plane_config(tmp_path_factory.mktemp("plane"), flytekit_venv)
        async with running_plane(config) as plane:
            yield plane
    finally:
        await asyncio.to_thread(shutdown_tracing)


async def _wait(plane: RunningPlane, name: str, client: Flytekit) -> execution_pb2.Execution:
    ident = identifier_pb2.WorkflowExecutionIdentifier(project=client.project, domain=client.domain, name=name)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        found = await plane.stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
        if found.closure.phase in (core.WorkflowExecution.SUCCEEDED, core.WorkflowExecution.FAILED):
            return found
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{name} did not finish")


@pytest.fixture(scope="module")
async def spans(
    traced_plane: RunningPlane, flytekit_venv: Path, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> list[ReceivedSpan]:
    client = Flytekit.for_admin(
        flytekit_venv, traced_plane.admin.grpc_port, traced_plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    client.add_package(TRACED, "traced")
    await client.pyflyte(
        "run", "--remote", "-p", client.project, "-d", client.domain, "--name", RUN,
        "--env", f"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={receiver.http_traces_url}",
        "traced/traced.py", "traced_wf", "--x", "3",
    )  # fmt: skip
    finished = await _wait(traced_plane, RUN, client)
    assert finished.closure.phase == core.WorkflowExecution.SUCCEEDED, finished.closure.error
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await asyncio.to_thread(force_flush)
        if any(s.name.startswith("execution ") for s in receiver.received()):
            break
        await asyncio.sleep(0.2)
    return receiver.received()


def _trace_of(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    execution = next(s for s in spans if s.name == f"execution flytesnacks/development/{RUN}")
    return [s for s in spans if s.trace_id == execution.trace_id]


def _chain_to_root(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[str]:
    names = [span.name]
    while span.parent_span_id:
        parent = by_id.get(span.parent_span_id)
        assert parent is not None, f"{span.name}: its parent {span.parent_span_id} was never exported"
        names.append(parent.name)
        span = parent
    return names


def test_create_execution_is_the_root_of_the_executions_trace(spans: list[ReceivedSpan]) -> None:
    trace = _trace_of(spans)
    roots = [s.name for s in trace if not s.parent_span_id]

    assert roots == ["flyteidl.service.AdminService/CreateExecution"]


def test_the_trace_id_is_computable_from_the_execution_id_alone(spans: list[ReceivedSpan]) -> None:
    """What a console links to: pyflyte sent no trace context, so the trace is the one derived from the id."""
    (trace_id,) = {s.trace_id for s in _trace_of(spans)}

    assert trace_id == execution_trace_id("flytesnacks", "development", RUN)


def test_the_engine_execution_hangs_under_admins_launch(spans: list[ReceivedSpan]) -> None:
    trace = _trace_of(spans)
    by_id = {s.span_id: s for s in trace}
    execution = next(s for s in trace if s.name.startswith("execution "))

    assert _chain_to_root(execution, by_id)[1:] == [
        "flyteplane.engine.v1.EngineService/Launch",
        "flyteidl.service.AdminService/CreateExecution",
    ]
    assert execution.attributes["flyte.execution"] == RUN
    assert execution.attributes["flyte.phase"] == "SUCCEEDED"


def test_every_node_and_attempt_has_its_span_under_the_execution(spans: list[ReceivedSpan]) -> None:
    trace = _trace_of(spans)
    by_id = {s.span_id: s for s in trace}
    names = {s.name for s in trace}

    assert {"node n0", "node n1", "attempt n0/0", "attempt n0/1", "attempt n1/0"} <= names
    failed_attempt = next(s for s in trace if s.name == "attempt n0/0")
    assert failed_attempt.status_code == 2  # ERROR: the first attempt failed and was retried
    for span in trace:
        if span.name.startswith("attempt "):
            chain = _chain_to_root(span, by_id)
            assert chain[1] == f"node {span.attributes['flyte.node']}"
            assert chain[2].startswith("execution ")


def test_spans_the_task_process_made_join_the_trace_under_their_attempt(spans: list[ReceivedSpan]) -> None:
    trace = _trace_of(spans)
    by_id = {s.span_id: s for s in trace}
    inside = {s.name: by_id[s.parent_span_id].name for s in trace if s.service == "traced-task"}

    assert inside == {
        "square in the task, attempt 0": "attempt n0/0",
        "square in the task, attempt 1": "attempt n0/1",
        "increment in the task": "attempt n1/0",
    }


def test_plugin_calls_are_spans_of_their_attempt(spans: list[ReceivedSpan]) -> None:
    trace = _trace_of(spans)
    by_id = {s.span_id: s for s in trace}
    plugin_parents = {by_id[s.parent_span_id].name for s in trace if s.name.startswith("plugin ")}

    assert {"attempt n0/0", "attempt n0/1", "attempt n1/0"} <= plugin_parents
