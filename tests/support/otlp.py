"""A small OTLP trace receiver on loopback: gRPC TraceService/Export and HTTP POST /v1/traces (protobuf or JSON).

It keeps every span it is sent, flattened to what tests ask about (ids as hex, name, attributes),
and answers as a collector does, so the SDK's exporters and hand-written OTLP/JSON clients both
work against it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict, ParseDict
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str  # "" for a root
    name: str
    service: str
    attributes: dict[str, Any]
    start_ns: int
    end_ns: int
    status_code: int  # 0 unset, 1 ok, 2 error


@dataclass
class Receiver:
    grpc_port: int = 0
    http_port: int = 0
    spans: list[ReceivedSpan] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_traces_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/v1/traces"

    def keep(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        with self._lock:
            self.spans.extend(_flatten(request.resource_spans))

    def received(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _flatten(resource_spans: Iterable[trace_pb2.ResourceSpans]) -> list[ReceivedSpan]:
    out = []
    for resource in resource_spans:
        service = next((str(_value(a.value)) for a in resource.resource.attributes if a.key == "service.name"), "")
        for scope in resource.scope_spans:
            for span in scope.spans:
                out.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        service=service,
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_code=span.status.code,
                    )
                )
    return out


def _from_json(body: bytes) -> trace_service_pb2.ExportTraceServiceRequest:
    """OTLP/JSON writes ids as hex (protobuf's JSON mapping would read them as base64): convert them first."""
    document = json.loads(body)
    request = trace_service_pb2.ExportTraceServiceRequest()
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _hex_to_base64(span[key])
    ParseDict(document, request, ignore_unknown_fields=True)
    return request


def _hex_to_base64(text: str) -> str:
    return base64.b64encode(bytes.fromhex(text)).decode()


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.receiver.keep(request)
        return trace_service_pb2.ExportTraceServiceResponse()


def _http_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            if "json" in (self.headers.get("Content-Type") or ""):
                receiver.keep(_from_json(body))
                answer, kind = json.dumps(MessageToDict(trace_service_pb2.ExportTraceServiceResponse())), "json"
                payload = answer.encode()
            else:
                receiver.keep(trace_service_pb2.ExportTraceServiceRequest.FromString(body))
                payload, kind = trace_service_pb2.ExportTraceServiceResponse().SerializeToString(), "x-protobuf"
            self.send_response(200)
            self.send_header("Content-Type", f"application/{kind}")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test's output stays readable

    return Handler


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on free loopback ports (gRPC and HTTP) until the block ends."""
    receiver = Receiver()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(receiver), server)
    receiver.grpc_port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(receiver))
    receiver.http_port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        http.shutdown()
        http.server_close()
        await server.stop(0)
