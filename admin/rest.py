"""The REST gateway: every RPC with a `google.api.http` annotation, served on admin's HTTP port.

Routes are derived from the descriptors in `idl/` (path template, verb, body mapping and
additional bindings), never written by hand, and each calls the very handler the gRPC service
calls, so both paths share one validation. JSON is proto3 JSON as Flyte's grpc-gateway renders it:
camelCase names, 64-bit integers as strings, enums by name, defaults omitted. A request's fields
come from the path, the query string (`?limit=10&sort_by.key=created_at`, by proto or JSON name;
repeated fields by repeating the parameter) and, where the annotation says so, the JSON body. An
unknown parameter or a value that does not parse is INVALID_ARGUMENT (400) naming it. Errors are
grpc-gateway's: the HTTP status for the gRPC code and a JSON body with `code` and `message`. The
engine-only RPCs (events) demand the plane credential in a `flyteplane-credential` header, as on gRPC.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.api import annotations_pb2, http_pb2
from google.protobuf import json_format, symbol_database
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from opentelemetry.trace import Status, StatusCode
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flyteplane.credentials import METADATA_KEY
from flyteplane.errors import FlyteplaneError, InvalidArgument, NotFound, PermissionDenied
from flyteplane.rpc import Handler
from flyteplane.tracing import current_trace_id, server_span, tracing_on

log = logging.getLogger("flyteplane.admin.rest")

# grpc-gateway's mapping of gRPC codes to HTTP statuses.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}
_VERBS = ("get", "put", "post", "delete", "patch")
_VARIABLE = re.compile(r"\{([a-zA-Z0-9_.]+)(?:=([^}]*))?\}")


@dataclass(frozen=True)
class Route:
    verb: str
    template: str
    pattern: re.Pattern[str]
    variables: tuple[str, ...]
    body: str
    method: MethodDescriptor
    handler: Handler
    engine_only: bool

    @property
    def request_class(self) -> type[Message]:
        return _class_of(self.method.input_type.full_name)


def _class_of(full_name: str) -> type[Message]:
    cls: type[Message] = symbol_database.Default().GetSymbol(full_name)
    return cls


def _compile(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A path template (`/api/v1/tasks/{id.project}/{id.name=**}`) as a regex and its field paths."""
    parts: list[str] = []
    variables: list[str] = []
    last = 0
    for match in _VARIABLE.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        segment = match.group(2) or "*"
        parts.append(f"(?P<v{len(variables)}>{'.+' if '**' in segment else '[^/]+'})")
        variables.append(match.group(1))
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("^" + "".join(parts) + "$"), tuple(variables)


def _rules(rule: http_pb2.HttpRule) -> Iterable[tuple[str, str, str]]:
    verb = rule.WhichOneof("pattern")
    if verb in _VERBS:
        yield verb.upper(), getattr(rule, verb), rule.body
    for extra in rule.additional_bindings:
        yield from _rules(extra)


def routes_from(
    services: Iterable[tuple[ServiceDescriptor, Mapping[str, Handler]]], engine_only: Iterable[str] = ()
) -> list[Route]:
    """Every annotated RPC of `services` that has a handler, as routes (most specific templates first)."""
    protected = set(engine_only)
    found = []
    for service, handlers in services:
        for method in service.methods:
            handler = handlers.get(method.name)
            if handler is None or method.client_streaming or method.server_streaming:
                continue
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            for verb, template, body in _rules(rule):
                pattern, variables = _compile(template)
                full = f"/{service.full_name}/{method.name}"
                found.append(Route(verb, template, pattern, variables, body, method, handler, full in protected))
    # Literal segments beat variables: `/api/v1/projects/{id}` must not catch `/api/v1/projects/x/y`.
    found.sort(key=lambda r: (-r.template.count("/"), r.template.count("{")))
    return found


def _field(descriptor: Any, name: str) -> FieldDescriptor | None:  # a Descriptor (Python or upb)
    fields: list[FieldDescriptor] = list(descriptor.fields)
    return next((f for f in fields if f.name == name), None) or next((f for f in fields if f.json_name == name), None)


def _scalar(field: FieldDescriptor, text: str, where: str) -> object:
    try:
        if field.type == FieldDescriptor.TYPE_STRING:
            return text
        if field.type == FieldDescriptor.TYPE_BOOL:
            if text not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text in ("true", "1")
        if field.type == FieldDescriptor.TYPE_ENUM:
            enum = field.enum_type
            assert enum is not None
            value = enum.values_by_name.get(text)
            return value.number if value is not None else int(text)
        if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
            return float(text)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
            raise ValueError("a message is not a single value")
        return int(text)
    except (ValueError, binascii.Error):
        raise InvalidArgument(f"cannot read {text!r} as {field.name}", field=where) from None


def _assign(message: Message, path: str, values: list[str]) -> None:
    """Sets the field at dotted `path` (proto or JSON names) from text values."""
    names = path.split(".")
    target = message
    for name in names[:-1]:
        field = _field(target.DESCRIPTOR, name)
        if field is None or field.type != FieldDescriptor.TYPE_MESSAGE or field.is_repeated:
            raise InvalidArgument(f"unknown parameter {path}", field=path)
        target = getattr(target, field.name)
    field = _field(target.DESCRIPTOR, names[-1])
    if field is None or field.type == FieldDescriptor.TYPE_MESSAGE:
        raise InvalidArgument(f"unknown parameter {path}", field=path)
    try:
        if field.is_repeated:
            getattr(target, field.name).extend(_scalar(field, v, path) for v in values)
        else:
            setattr(target, field.name, _scalar(field, values[-1], path))
    except (ValueError, TypeError) as exc:  # an integer beyond its field's width, an enum out of range
        raise InvalidArgument(f"cannot set {path}: {exc}", field=path) from None


async def _request_of(route: Route, match: re.Match[str], request: Request) -> Message:
    message = route.request_class()
    if route.body:
        raw = await request.body()
        target = message if route.body == "*" else getattr(message, route.body)
        if raw.strip():
            try:
                json_format.Parse(raw, target)
            except (json_format.ParseError, UnicodeDecodeError, ValueError) as exc:
                raise InvalidArgument(f"the request body does not parse: {exc}", field="body") from None
    for index, path in enumerate(route.variables):
        _assign(message, path, [match.group(f"v{index}")])
    if route.body != "*":
        grouped: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            grouped.setdefault(key, []).append(value)
        for key, values in grouped.items():
            _assign(message, key, values)
    return message


def error_response(error: FlyteplaneError) -> JSONResponse:
    """grpc-gateway's error body and the HTTP status for the error's gRPC code."""
    message = str(error)
    return JSONResponse(
        {"code": error.code.value[0], "message": message, "error": message, "details": []},
        status_code=HTTP_STATUS.get(error.code, 500),
    )


# Runs an RPC's handler (the callable) for a REST call if its caller may call the RPC (short name) with the request.
Authorize = Callable[[str, Message, Callable[[], Awaitable[Message]]], Awaitable[Message]]


class RestGateway:
    """Dispatches HTTP requests under `/api/` to the route they match."""

    def __init__(
        self,
        routes: list[Route],
        credential: str,
        roots_execution: frozenset[str] = frozenset(),
        authorize: Authorize | None = None,
    ) -> None:
        self.routes = routes
        self._credential = credential.encode()
        # With auth on: runs the handler if the caller may call the RPC (by its short name) with the request.
        self._authorize = authorize
        # The RPCs (`/package.Service/Method`) that create an execution: see flyteplane.tracing.server_span.
        self.roots_execution = roots_execution

    def _route(self, verb: str, path: str) -> tuple[Route, re.Match[str]]:
        allowed = []
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.verb == verb:
                return route, match
            allowed.append(route.verb)
        if allowed:
            raise InvalidArgument(f"{verb} is not allowed on {path} (allowed: {', '.join(sorted(set(allowed)))})")
        raise NotFound(f"no API route for {path}", field="path")

    async def handle(self, request: Request) -> Response:
        """Answers one REST call; with tracing on, in a span under the caller's W3C `traceparent` header."""
        if not tracing_on():
            return await self._answer(request)
        attributes: dict[str, str] = {
            "http.request.method": request.method,
            "url.path": request.url.path,
            "url.scheme": request.url.scheme,
        }
        name, roots = request.method, False
        try:
            route, _ = self._route(request.method, request.url.path)
        except FlyteplaneError:
            pass  # answered as an error below, in a span named by the method alone
        else:  # named as OpenTelemetry names HTTP server spans: method and route
            name = f"{request.method} {route.template}"
            method = f"/{route.method.containing_service.full_name}/{route.method.name}"
            roots = method in self.roots_execution
            attributes.update(
                {
                    "http.route": route.template,
                    "rpc.system": "grpc",
                    "rpc.service": route.method.containing_service.full_name,
                    "rpc.method": route.method.name,
                }
            )
        with server_span(name, request.headers, attributes, roots_execution=roots) as current:
            response = await self._answer(request)
            assert current is not None
            span = current.start()
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:  # as a gRPC span is an error for any status but OK
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status_code}"))
            return response

    async def _answer(self, request: Request) -> Response:
        try:
            route, match = self._route(request.method, request.url.path)
            if route.engine_only:
                presented = request.headers.get(METADATA_KEY, "").encode()
                if not hmac.compare_digest(presented, self._credential):
                    raise PermissionDenied(
                        f"{route.method.name} is reserved for the plane's own components: the request carries no "
                        f"valid {METADATA_KEY}"
                    )
            message = await _request_of(route, match, request)
            if self._authorize is not None:
                response = await self._authorize(route.method.name, message, lambda: route.handler(message))
            else:
                response = await route.handler(message)
        except FlyteplaneError as error:
            return error_response(error)
        except Exception:
            trace_id = current_trace_id() or uuid.uuid4().hex
            log.exception("unexpected error in %s %s (trace id %s)", request.method, request.url.path, trace_id)
            return JSONResponse(
                {"code": 13, "message": f"internal error (trace id {trace_id})", "details": []}, status_code=500
            )
        return Response(json_format.MessageToJson(response, indent=None), media_type="application/json")


def openapi(routes: list[Route], title: str = "flyteplane admin") -> dict[str, Any]:
    """An OpenAPI 3 document of the routes, with a schema per message they use, from the descriptors."""
    schemas: dict[str, Any] = {}

    def ref(descriptor: Descriptor) -> dict[str, Any]:
        name = descriptor.full_name
        if name in _WELL_KNOWN:  # proto3 JSON renders these as scalars or free JSON, not as their fields
            return dict(_WELL_KNOWN[name])
        if name not in schemas:
            schemas[name] = {}  # placeholder first: messages refer to themselves
            schemas[name] = {
                "type": "object",
                "properties": {f.json_name: field_schema(f) for f in descriptor.fields},
            }
        return {"$ref": f"#/components/schemas/{name}"}

    def single(field: FieldDescriptor) -> dict[str, Any]:
        t = field.type
        if t in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
            assert field.message_type is not None
            return ref(field.message_type)
        if t == FieldDescriptor.TYPE_ENUM:
            assert field.enum_type is not None
            return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        if t == FieldDescriptor.TYPE_BOOL:
            return {"type": "boolean"}
        if t in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
            return {"type": "number"}
        if t == FieldDescriptor.TYPE_BYTES:
            return {"type": "string", "format": "byte"}
        if t == FieldDescriptor.TYPE_STRING:
            return {"type": "string"}
        if t in (
            FieldDescriptor.TYPE_INT64,
            FieldDescriptor.TYPE_UINT64,
            FieldDescriptor.TYPE_SINT64,
            FieldDescriptor.TYPE_FIXED64,
            FieldDescriptor.TYPE_SFIXED64,
        ):
            return {"type": "string", "format": "int64"}
        return {"type": "integer", "format": "int32"}

    def field_schema(field: FieldDescriptor) -> dict[str, Any]:
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            return {"type": "object", "additionalProperties": single(entry.fields_by_name["value"])}
        if field.is_repeated:
            return {"type": "array", "items": single(field)}
        return single(field)

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": f"{route.method.containing_service.name}_{route.method.name}",
            "parameters": [
                {"name": v, "in": "path", "required": True, "schema": {"type": "string"}} for v in route.variables
            ],
            "responses": {
                "200": {"content": {"application/json": {"schema": ref(route.method.output_type)}}},
                "default": {"description": "an error: {code, message}"},
            },
        }
        if route.body:
            body_type = route.method.input_type
            if route.body != "*":
                field = body_type.fields_by_name[route.body]
                assert field.message_type is not None
                body_type = field.message_type
            operation["requestBody"] = {"content": {"application/json": {"schema": ref(body_type)}}}
        paths.setdefault(_openapi_path(route.template), {})[route.verb.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "v1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


# How proto3 JSON renders the well-known types (a timestamp is an RFC 3339 string, a Struct any object).
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": {}},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {"type": "object", "additionalProperties": {}},
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte"},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32"},
    "google.protobuf.UInt32Value": {"type": "integer", "format": "int32"},
    "google.protobuf.Int64Value": {"type": "string", "format": "int64"},
    "google.protobuf.UInt64Value": {"type": "string", "format": "int64"},
    "google.protobuf.FloatValue": {"type": "number"},
    "google.protobuf.DoubleValue": {"type": "number"},
}


def _openapi_path(template: str) -> str:
    return _VARIABLE.sub(lambda m: "{" + m.group(1) + "}", template)
