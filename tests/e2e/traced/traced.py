"""A workflow whose task, inside its own process, starts a span under the TRACEPARENT the engine hands it.

The flytekit environment has the OpenTelemetry API (a flytekit dependency) but no SDK, so the task
parses the trace context with the API's W3C propagator and sends its one span as OTLP/JSON to
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (given with `pyflyte run --env`). Its first attempt fails
recoverably, so the trace also holds a retried attempt.
"""

import json
import os
import secrets
import time
import urllib.request

from flytekit import task, workflow
from flytekit.exceptions.user import FlyteRecoverableException
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


def _send_span(name: str, start_ns: int) -> None:
    parent_context = TraceContextTextMapPropagator().extract({"traceparent": os.environ["TRACEPARENT"]})
    parent = trace.get_current_span(parent_context).get_span_context()
    span = {
        "traceId": f"{parent.trace_id:032x}",
        "spanId": secrets.token_hex(8),
        "parentSpanId": f"{parent.span_id:016x}",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(time.time_ns()),
        "attributes": [{"key": "flyte.attempt", "value": {"intValue": os.environ.get("FLYTE_ATTEMPT_NUMBER", "")}}],
    }
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "traced-task"}}]},
                "scopeSpans": [{"scope": {"name": "traced"}, "spans": [span]}],
            }
        ]
    }
    endpoint = os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    request = urllib.request.Request(endpoint, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


@task(retries=1)
def flaky_square(x: int) -> int:
    start = time.time_ns()
    attempt = int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))
    _send_span(f"square in the task, attempt {attempt}", start)
    if attempt == 0:
        raise FlyteRecoverableException("the first attempt fails on purpose")
    return x * x


@task
def increment(x: int) -> int:
    start = time.time_ns()
    _send_span("increment in the task", start)
    return x + 1


@workflow
def traced_wf(x: int = 3) -> int:
    return increment(x=flaky_square(x=x))
