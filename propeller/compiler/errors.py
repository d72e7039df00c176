"""Compiler error values: Flyte's error codes, one error per finding, and the exception carrying them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flyteplane.errors import InvalidArgument


class ErrorCode(StrEnum):
    """The compiler error codes Flyte reports (`Code: <code>` in its messages)."""

    CYCLE_DETECTED = "CycleDetected"
    BRANCH_NODE_ID_NOT_FOUND = "BranchNodeIdNotFound"
    BRANCH_NODE_HAS_NO_CONDITION = "BranchNodeHasNoCondition"
    BRANCH_NODE_HAS_NO_DEFAULT = "BranchNodeHasNoDefault"
    VALUE_REQUIRED = "ValueRequired"
    INVALID_VALUE = "InvalidValue"
    NODE_REFERENCE_NOT_FOUND = "NodeReferenceNotFound"
    TASK_REFERENCE_NOT_FOUND = "TaskReferenceNotFound"
    WORKFLOW_REFERENCE_NOT_FOUND = "WorkflowReferenceNotFound"
    VARIABLE_NAME_NOT_FOUND = "VariableNameNotFound"
    DUPLICATE_ALIAS = "DuplicateAlias"
    DUPLICATE_ID = "DuplicateId"
    MISMATCHING_TYPES = "MismatchingTypes"
    MISMATCHING_BINDINGS = "MismatchingBindings"
    MISMATCHING_INTERFACES = "MismatchingInterfaces"
    INCONSISTENT_TYPES = "InconsistentTypes"
    PARAMETER_BOUND_MORE_THAN_ONCE = "ParameterBoundMoreThanOnce"
    PARAMETER_NOT_BOUND = "ParameterNotBound"
    NO_ENTRY_NODE_FOUND = "NoEntryNodeFound"
    UNREACHABLE_NODES = "UnreachableNodes"
    UNRECOGNIZED_VALUE = "UnrecognizedValue"
    WORKFLOW_BUILD_ERROR = "WorkflowBuildError"
    VALUE_COLLISION = "ValueCollision"
    SYNTAX_ERROR = "SyntaxError"
    NO_NODES_FOUND = "NoNodesFound"
    ILLEGAL_ENUM_VALUE = "IllegalEnumValue"
    AMBIGUOUS_BINDING_UNION_VALUE = "AmbiguousBindingUnionValue"
    INCOMPATIBLE_BINDING_UNION_VALUE = "IncompatibleBindingUnionValue"
    NO_CONDITION_FOUND = "NoConditionFound"
    FIELD_NOT_FOUND = "FieldNotFound"
    INVALID_LITERAL_TYPE = "InvalidLiteralType"


@dataclass(frozen=True, order=True)
class CompileError:
    """One compiler finding: Flyte's error code, the node (or field scope) it concerns, and what is wrong."""

    code: str
    node_id: str
    message: str

    def __str__(self) -> str:
        return f"Code: {self.code}, Node Id: {self.node_id}, Description: {self.message}"


class CompilationFailed(InvalidArgument):
    """Compilation found errors; `errors` holds every one of them, de-duplicated and sorted."""

    def __init__(self, errors: Iterable[CompileError]) -> None:
        self.errors: list[CompileError] = sorted(set(errors))
        lines = "".join(f"\n\t{i}) {error}" for i, error in enumerate(self.errors))
        super().__init__(f"Collected Errors: {len(self.errors)}{lines}")
