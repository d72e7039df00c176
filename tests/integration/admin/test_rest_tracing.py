"""A REST call carrying a W3C `traceparent` header joins the caller's trace, as a gRPC call with that metadata does.

A real OTLP receiver on loopback (tests/support/otlp.py) gets the spans over OTLP/gRPC: the REST
request's span is the child of the caller's span, and an execution created over REST is recorded
in that same trace by the engine. Without a caller's context, the request that creates an execution
roots the trace derived from the execution id (`execution_trace_id`), over gRPC and REST alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteplane.config import TracingConfig
from flyteplane.tracing import configure_tracing, execution_trace_id, force_flush, shutdown_tracing
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import DOMAIN, PROJECT, chain, echo_task, ident
from tests.support.otlp import ReceivedSpan, Receiver, otlp_receiver
from tests.support.plane import RunningPlane, plane_config, running_plane

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


@pytest.fixture
async def traced_plane(tmp_path: Path) -> AsyncIterator[tuple[RunningPlane, Receiver]]:
    async with otlp_receiver() as receiver:
        configure_tracing(TracingConfig(enabled=True, endpoint=receiver.grpc_endpoint, protocol="grpc"), env={})
        try:
            config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
            async with running_plane(config) as plane:
                yield plane, receiver
        finally:
            shutdown_tracing()


async def _spans_of(receiver: Receiver, trace_id: str, wanted: set[str], limit: float = 20.0) -> list[ReceivedSpan]:
    """The spans of `trace_id` once those named in `wanted` have arrived."""
    deadline = time.monotonic() + limit
    while True:
        await asyncio.to_thread(force_flush)
        spans = [s for s in receiver.received() if s.trace_id == trace_id]
        if wanted <= {s.name for s in spans}:
            return spans
        if time.monotonic() > deadline:
            raise AssertionError(f"missing {wanted - {s.name for s in spans}} among {sorted(s.name for s in spans)}")
        await asyncio.sleep(0.1)


async def test_a_rest_call_with_a_traceparent_header_joins_the_callers_trace(
    traced_plane: tuple[RunningPlane, Receiver],
) -> None:
    plane, receiver = traced_plane
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        response = await client.get(f"/api/v1/projects/{PROJECT}", headers={"traceparent": TRACEPARENT})
    assert response.status_code == 200, response.text

    (span,) = await _spans_of(receiver, CALLER_TRACE, {"GET /api/v1/projects/{id}"})
    assert span.parent_span_id == CALLER_SPAN
    assert span.attributes["http.route"] == "/api/v1/projects/{id}"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["rpc.method"] == "GetProject"
    assert span.status_code != 2


async def test_an_execution_created_over_rest_is_traced_under_the_callers_span(
    traced_plane: tuple[RunningPlane, Receiver],
) -> None:
    plane, receiver = traced_plane
    await register(plane.stub, [echo_task(), *chain("rested2", 2)])
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT,
        domain=DOMAIN,
        name="overrest",
        spec=execution_pb2.ExecutionSpec(launch_plan=ident(identifier_pb2.LAUNCH_PLAN, "rested2")),
        inputs=ints(x=1),
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        response = await client.post(
            "/api/v1/executions",
            content=json_format.MessageToJson(request),
            headers={"traceparent": TRACEPARENT, "content-type": "application/json"},
        )
    assert response.status_code == 200, response.text
    execution = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="overrest")
    assert (await wait(plane.stub, execution)).closure.phase == core.WorkflowExecution.SUCCEEDED

    run_name = f"execution {PROJECT}/{DOMAIN}/overrest"
    spans = await _spans_of(receiver, CALLER_TRACE, {"POST /api/v1/executions", run_name, "node n0", "node n1"})
    by_name = {s.name: s for s in spans}
    rest = by_name["POST /api/v1/executions"]
    assert rest.parent_span_id == CALLER_SPAN
    launch = by_name["flyteplane.engine.v1.EngineService/Launch"]
    assert launch.parent_span_id == rest.span_id  # admin's launch call carries the REST request's context
    assert by_name[run_name].parent_span_id in {rest.span_id, launch.span_id}


async def test_an_execution_created_without_trace_context_is_traced_under_the_id_derived_from_its_id(
    traced_plane: tuple[RunningPlane, Receiver],
) -> None:
    """What a console links to from the execution id alone: admin's request roots the execution's derived trace."""
    plane, receiver = traced_plane
    await register(plane.stub, [echo_task(), *chain("derived1", 1)])
    over_grpc = await launch(plane.stub, "derived1", ints(x=1))  # unnamed: admin names it
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT,
        domain=DOMAIN,
        name="derivedrest",
        spec=execution_pb2.ExecutionSpec(launch_plan=ident(identifier_pb2.LAUNCH_PLAN, "derived1")),
        inputs=ints(x=2),
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        response = await client.post("/api/v1/executions", content=json_format.MessageToJson(request))
    assert response.status_code == 200, response.text
    over_rest = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="derivedrest")

    for execution, created in (
        (over_grpc, "flyteidl.service.AdminService/CreateExecution"),
        (over_rest, "POST /api/v1/executions"),
    ):
        assert (await wait(plane.stub, execution)).closure.phase == core.WorkflowExecution.SUCCEEDED
        trace_id = execution_trace_id(execution.project, execution.domain, execution.name)
        run_name = f"execution {execution.project}/{execution.domain}/{execution.name}"
        spans = {s.name: s for s in await _spans_of(receiver, trace_id, {created, run_name, "node n0"})}
        assert spans[created].parent_span_id == ""  # the root
        assert spans["flyteplane.engine.v1.EngineService/Launch"].parent_span_id == spans[created].span_id
        assert spans[created].start_ns <= spans[run_name].start_ns
