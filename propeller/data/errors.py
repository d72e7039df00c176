"""The errors the data functions raise: each carries the Flyte error code the engine reports for it."""

from __future__ import annotations

# Binding resolution (flytepropeller `nodes/errors/codes.go` and `executor.go` preExecute).
PROMISE_ATTRIBUTE_RESOLVE_ERROR = "PromiseAttributeResolveError"
BINDING_RESOLUTION_FAILURE = "BindingResolutionFailure"
BAD_SPECIFICATION = "BadSpecification"
INVALID_PRIMITIVE_TYPE = "InvalidPrimitiveType"

# Branch evaluation (`nodes/branch/evaluator.go`).
USER_PROVIDED_ERROR = "UserProvidedError"
MALFORMED_BRANCH = "MalformedBranchUserError"

# Array nodes (`nodes/array/handler.go`).
INVALID_ARRAY_LENGTH = "InvalidArrayLength"


class DataError(Exception):
    """A failure with a Flyte error `code` and a human `message`; str() renders `[code] message` as Flyte does."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class BindingError(DataError):
    """Node inputs could not be resolved from their bindings; the node fails (SYSTEM BindingResolutionFailure)."""


class BranchUserError(DataError):
    """No branch case could be chosen, or a condition cannot be evaluated; the branch node fails (USER)."""


class ArrayUserError(DataError):
    """The array node's inputs cannot be split into sub-node inputs; the array node fails (USER)."""
