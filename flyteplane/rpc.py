"""gRPC server plumbing shared by every component: the one error-mapping interceptor, health and reflection.

No exception may reach grpcio unmapped: grpcio would answer UNKNOWN, and flytekit treats UNKNOWN as
an authentication failure and blocks waiting for a browser login. Our errors keep their code and
message; anything else becomes INTERNAL with a trace id that is also logged with the stack.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from flyteplane.errors import FlyteplaneError

log = logging.getLogger("flyteplane.rpc")

# Flyte truncates error messages to this many bytes on the wire.
MAX_MESSAGE_BYTES = 32_000


def _truncate(message: str) -> str:
    data = message.encode()
    return message if len(data) <= MAX_MESSAGE_BYTES else data[:MAX_MESSAGE_BYTES].decode(errors="ignore")


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps FlyteplaneError to its status code and any other exception to INTERNAL with a trace id."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        inner = handler.unary_unary

        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return await inner(request, context)
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

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _status_with_details(exc: FlyteplaneError, details: Message) -> grpc.Status:
    packed = any_pb2.Any()
    packed.Pack(details)
    status = status_pb2.Status(code=exc.code.value[0], message=_truncate(str(exc)), details=[packed])
    return rpc_status.to_status(status)


def add_health_and_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> health.HealthServicer:
    """Serve grpc.health.v1 (every service SERVING) and server reflection for grpcurl."""
    names = list(service_names)
    servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    for name in ["", *names]:
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    return servicer
