"""The error hierarchy every component raises, and its single mapping to gRPC status codes.

Handlers raise these; one server interceptor turns them into statuses. Anything else that
escapes a handler is a bug and becomes INTERNAL with a logged trace id (never UNKNOWN).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

if TYPE_CHECKING:
    from google.protobuf.message import Message


class FlyteplaneError(Exception):
    """Base of every error we raise on purpose. `code` is the gRPC status it maps to."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, *, field: str | None = None, details: Message | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # A protobuf message sent as google.rpc.Status details (Flyte's EventFailureReason and friends).
        self.details = details

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidArgument(FlyteplaneError):
    """The request is malformed; `field` names the offending field (e.g. `id.project`)."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(FlyteplaneError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(FlyteplaneError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(FlyteplaneError):
    """The request is well formed but illegal in the current state (e.g. a phase transition)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(FlyteplaneError):
    """A size or rate limit was hit (payload too large, too many items)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unauthenticated(FlyteplaneError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(FlyteplaneError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unavailable(FlyteplaneError):
    """A dependency (database, object store, another component) cannot be reached; retryable."""

    code = grpc.StatusCode.UNAVAILABLE


class Aborted(FlyteplaneError):
    """A concurrent change won (optimistic-lock conflict); the caller may retry."""

    code = grpc.StatusCode.ABORTED


class Internal(FlyteplaneError):
    code = grpc.StatusCode.INTERNAL


class Unimplemented(FlyteplaneError):
    code = grpc.StatusCode.UNIMPLEMENTED


def status_of(error: BaseException) -> tuple[grpc.StatusCode, str]:
    """The gRPC status code and message a handler's exception becomes on the wire."""
    if isinstance(error, FlyteplaneError):
        return error.code, str(error)
    return grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}"
