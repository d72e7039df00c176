"""The Flyte workflow and task compiler: registration checks, closures, the type system and digests."""

from propeller.compiler.digest import digest
from propeller.compiler.errors import CompilationFailed, CompileError, ErrorCode
from propeller.compiler.inputs import validate_inputs
from propeller.compiler.launch_plan import LaunchPlanInterface, validate_launch_plan
from propeller.compiler.literals import literal_type_of, validate_literal
from propeller.compiler.requirements import Requirements, requirements
from propeller.compiler.task import compile_task
from propeller.compiler.types import is_castable, validate_literal_type
from propeller.compiler.workflow import compile_workflow

__all__ = [
    "CompilationFailed",
    "CompileError",
    "ErrorCode",
    "LaunchPlanInterface",
    "Requirements",
    "compile_task",
    "compile_workflow",
    "digest",
    "is_castable",
    "literal_type_of",
    "requirements",
    "validate_inputs",
    "validate_launch_plan",
    "validate_literal",
    "validate_literal_type",
]
