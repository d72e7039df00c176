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
    """Base of every error we raise on purpose. `code` is the gRPC status it maps to.

    A subclass names its status in its class line: `class NotFound(FlyteplaneError, code=...)`.
    """

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init_subclass__(cls, *, code: grpc.StatusCode | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, field: str | None = None, details: Message | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # A protobuf message sent as google.rpc.Status details (Flyte's EventFailureReason and friends).
        self.details = details

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidArgument(FlyteplaneError, code=grpc.StatusCode.INVALID_ARGUMENT):
    """The request is malformed; `field` names the offending field (e.g. `id.project`)."""


class NotFound(FlyteplaneError, code=grpc.StatusCode.NOT_FOUND):
    """The named entity (project, task, execution, artifact, ...) does not exist."""


class AlreadyExists(FlyteplaneError, code=grpc.StatusCode.ALREADY_EXISTS):
    """An entity with this identifier exists already."""


class FailedPrecondition(FlyteplaneError, code=grpc.StatusCode.FAILED_PRECONDITION):
    """The request is well formed but illegal in the current state (e.g. a phase transition)."""


class ResourceExhausted(FlyteplaneError, code=grpc.StatusCode.RESOURCE_EXHAUSTED):
    """A size or rate limit was hit (payload too large, too many items)."""


class Unauthenticated(FlyteplaneError, code=grpc.StatusCode.UNAUTHENTICATED):
    """The caller did not prove who it is."""


class PermissionDenied(FlyteplaneError, code=grpc.StatusCode.PERMISSION_DENIED):
    """The caller is known but may not do this."""


class Unavailable(FlyteplaneError, code=grpc.StatusCode.UNAVAILABLE):
    """A dependency (database, object store, another component) cannot be reached; retryable."""


class Aborted(FlyteplaneError, code=grpc.StatusCode.ABORTED):
    """A concurrent change won (optimistic-lock conflict); the caller may retry."""


class Internal(FlyteplaneError, code=grpc.StatusCode.INTERNAL):
    """Something went wrong on our side, detected and reported on purpose."""


class Unimplemented(FlyteplaneError, code=grpc.StatusCode.UNIMPLEMENTED):
    """A method or feature flyteplane does not provide."""


def status_of(error: BaseException) -> tuple[grpc.StatusCode, str]:
    """The gRPC status code and message a handler's exception becomes on the wire."""
    if isinstance(error, FlyteplaneError):
        return error.code, str(error)
    return grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}"
