"""gRPC server plumbing shared by every component: the one error-mapping interceptor, health and reflection.

No exception may reach grpcio unmapped: grpcio would answer UNKNOWN, and flytekit treats UNKNOWN as
an authentication failure and blocks waiting for a browser login. Our errors keep their code and
message; anything else becomes INTERNAL with a trace id that is also logged with the stack.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, descriptor_pb2
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from google.rpc import status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from grpc_status import rpc_status

from flyteplane.errors import FlyteplaneError, InvalidArgument

log = logging.getLogger("flyteplane.rpc")

# Answers from another component that may change when the call is made again (it was unreachable,
# overloaded or failing): callers keep the work and retry it later instead of dropping it.
TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
    }
)

# Flyte truncates error messages to this many bytes on the wire.
MAX_MESSAGE_BYTES = 32_000


def _truncate(message: str) -> str:
    data = message.encode()
    return message if len(data) <= MAX_MESSAGE_BYTES else data[:MAX_MESSAGE_BYTES].decode(errors="ignore")


UnaryCall = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


class UnaryInterceptor(grpc.aio.ServerInterceptor):
    """An interceptor around the behaviour of every unary RPC: a subclass says how in `wrap`."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        # grpc.aio asks every interceptor for the handler of every call; a method's wrapped handler
        # is built once (wrap depends only on the method and the handler beneath, both stable).
        method = handler_call_details.method
        built = self._built.get(method)
        if built is not None and built[0] is handler:
            wrapped: grpc.RpcMethodHandler[Any, Any] = built[1]
            return wrapped
        inner = handler.unary_unary

        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            result = inner(request, context)  # type: ignore[arg-type]  # grpc.aio handlers take aio contexts
            # Some stock servicers (grpc's health Check) are synchronous even on an aio server.
            return await result if inspect.isawaitable(result) else result

        wrapped = grpc.unary_unary_rpc_method_handler(
            self.wrap(method, call),
            request_deserializer=self.deserializer(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
        self._built[method] = (handler, wrapped)
        return wrapped

    @functools.cached_property
    def _built(self) -> dict[str, tuple[Any, grpc.RpcMethodHandler[Any, Any]]]:
        """Per method: the handler beneath and this interceptor's wrapping of it."""
        return {}

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        """The RPC `method` (`/package.Service/Method`) as this interceptor runs it."""
        raise NotImplementedError

    def deserializer(self, decode: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
        """How the request body is decoded (unchanged unless a subclass says otherwise)."""
        return decode


class Undecodable:
    """A request body that does not decode as the RPC's request message (the handler is never called)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class ErrorInterceptor(UnaryInterceptor):
    """Maps FlyteplaneError to its status code and any other exception to INTERNAL with a trace id.

    Two answers grpcio would otherwise give are also mapped: a request body that does not decode
    (grpcio: UNKNOWN, which flytekit takes for an authentication failure) is INVALID_ARGUMENT, and
    an RPC the servicer does not implement is UNIMPLEMENTED.
    """

    def deserializer(self, decode: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
        if decode is None:
            return None

        def tolerant(body: bytes) -> Any:
            try:
                return decode(body)
            except Exception as exc:  # protobuf raises DecodeError; a custom decoder anything
                return Undecodable(exc)

        return tolerant

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                if isinstance(request, Undecodable):
                    raise InvalidArgument(f"the request body of {method} does not decode: {request.error}")
                return await call(request, context)
            except NotImplementedError:
                await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented")
            except FlyteplaneError as exc:
                if exc.details is not None:
                    # Flyte attaches typed details (e.g. EventFailureReason) as a google.rpc.Status.
                    await context.abort_with_status(_status_with_details(exc, exc.details))
                await context.abort(exc.code, _truncate(str(exc)))
            except grpc.aio.AbortError:
                raise
            except Exception:
                trace_id = uuid.uuid4().hex
                log.exception("unexpected error in %s (trace id %s)", method, trace_id)
                await context.abort(grpc.StatusCode.INTERNAL, f"internal error (trace id {trace_id})")

        return guarded


def _status_with_details(exc: FlyteplaneError, details: Message) -> grpc.Status:
    packed = any_pb2.Any()
    packed.Pack(details)
    status = status_pb2.Status(code=exc.code.value[0], message=_truncate(str(exc)), details=[packed])
    converted: grpc.Status = rpc_status.to_status(status)
    return converted


Handler = Callable[[Any], Awaitable[Any]]
S = TypeVar("S")


def servicer(base: type[S], descriptor: ServiceDescriptor, routes: Mapping[str, Handler]) -> S:
    """An instance of a generated servicer class whose RPCs call the route table's handlers.

    An RPC missing from the table answers UNIMPLEMENTED (grpcio's default); a name that is not an
    RPC of the service fails at start-up, so tables cannot drift from the IDL silently.
    """
    unknown = set(routes) - {m.name for m in descriptor.methods}
    if unknown:
        raise ValueError(f"{descriptor.full_name} has no RPCs named {sorted(unknown)}")
    namespace: dict[str, Any] = {}
    for name, handler in routes.items():

        async def call(self: Any, request: Any, context: Any, _handler: Handler = handler) -> Any:
            return await _handler(request)

        call.__name__ = name
        namespace[name] = call
    instance: S = type(f"{descriptor.name}Servicer", (base,), namespace)()
    return instance


async def add_health_and_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serve grpc.health.v1 (every service SERVING) and server reflection for grpcurl.

    The health servicer is grpc's asyncio one: a Watch stream is a coroutine waiting on the loop. The
    synchronous servicer parks a thread of the loop's default executor per Watch, so a few abandoned
    streams would starve every `asyncio.to_thread` of the process (the object store's) and hold up
    shutdown.
    """
    names = list(service_names)
    servicer = health.aio.HealthServicer()
    listing = _HealthList()
    servicer.List = listing.list  # grpc's asyncio servicer leaves List unimplemented
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    for name in ["", *names]:
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        listing.statuses[name] = health_pb2.HealthCheckResponse.SERVING
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        _ReflectionServicer([*names, health.SERVICE_NAME, reflection.SERVICE_NAME]), server
    )


class _HealthList:
    """Health/List (every service's status), which grpc's asyncio servicer leaves unimplemented."""

    def __init__(self) -> None:
        self.statuses: dict[str, health_pb2.HealthCheckResponse.ServingStatus] = {}

    async def list(self, request: health_pb2.HealthListRequest, context: Any) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={name: health_pb2.HealthCheckResponse(status=status) for name, status in self.statuses.items()}
        )


class _ReflectionServicer(reflection.aio.ReflectionServicer):  # type: ignore[misc]
    """Server reflection whose file descriptors name every field's JSON name, as Go-generated ones do.

    Python's generated descriptors omit `json_name`; generic clients such as grpcurl then print
    snake_case field names instead of the proto3 JSON names (`controlPlaneVersion`) that flyteadmin's
    reflection gives them.
    """

    async def ServerReflectionInfo(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        async for response in super().ServerReflectionInfo(request_iterator, context):
            if response.HasField("file_descriptor_response"):
                files = response.file_descriptor_response.file_descriptor_proto
                files[:] = [_with_json_names(serialized) for serialized in files]
            yield response


def _with_json_names(serialized: bytes) -> bytes:
    file = descriptor_pb2.FileDescriptorProto.FromString(serialized)
    messages = list(file.message_type)
    for field in file.extension:
        field.json_name = field.json_name or _json_name(field.name)
    while messages:
        message = messages.pop()
        messages.extend(message.nested_type)
        for field in [*message.field, *message.extension]:
            field.json_name = field.json_name or _json_name(field.name)
    return file.SerializeToString()


def _json_name(name: str) -> str:
    """protoc's rule: drop each underscore and capitalise the letter after it."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
