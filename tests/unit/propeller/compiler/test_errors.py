"""Compiler error values: codes, the message format, and how a failure surfaces to admin."""

from __future__ import annotations

from flyteplane.errors import InvalidArgument, status_of
from propeller.compiler import CompilationFailed, CompileError, ErrorCode


def test_error_renders_code_node_and_description() -> None:
    error = CompileError(ErrorCode.CYCLE_DETECTED, "n0", "A cycle has been detected: n0>n1>n0.")
    assert str(error) == "Code: CycleDetected, Node Id: n0, Description: A cycle has been detected: n0>n1>n0."


def test_error_codes_are_flyte_strings() -> None:
    assert CompileError(ErrorCode.VALUE_REQUIRED, "n0", "x").code == "ValueRequired"


def test_failure_deduplicates_and_sorts_errors() -> None:
    second = CompileError(ErrorCode.VALUE_REQUIRED, "n1", "b")
    first = CompileError(ErrorCode.TASK_REFERENCE_NOT_FOUND, "n0", "a")
    failure = CompilationFailed([second, first, second])
    assert failure.errors == [first, second]


def test_failure_message_lists_every_error() -> None:
    failure = CompilationFailed(
        [CompileError(ErrorCode.VALUE_REQUIRED, "n1", "b"), CompileError(ErrorCode.NO_NODES_FOUND, "wf", "a")]
    )
    assert str(failure).startswith("Collected Errors: 2")
    assert "Code: NoNodesFound, Node Id: wf" in str(failure)
    assert "Code: ValueRequired, Node Id: n1" in str(failure)


def test_failure_is_an_invalid_argument() -> None:
    failure = CompilationFailed([CompileError(ErrorCode.VALUE_REQUIRED, "n1", "b")])
    assert isinstance(failure, InvalidArgument)
    assert status_of(failure)[0].name == "INVALID_ARGUMENT"
