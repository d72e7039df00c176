"""Task compilation: the compile-time checks of a TaskTemplate's id and execution target."""

from __future__ import annotations

import re

from google.protobuf import duration_pb2, json_format

from flyteidl_py.core import compiler_pb2, tasks_pb2
from propeller.compiler.errors import CompilationFailed, CompileError, ErrorCode

# A Kubernetes resource quantity: signed decimal number with an optional binary/decimal SI suffix or exponent.
_QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
_DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def compile_task(template: tasks_pb2.TaskTemplate) -> compiler_pb2.CompiledTask:
    """Compile one task template; raises CompilationFailed listing every problem found."""
    errors: list[CompileError] = []
    if not template.HasField("id"):
        errors.append(CompileError(ErrorCode.VALUE_REQUIRED, "root", "Value required [Id]."))
    if template.metadata.HasField("timeout"):
        problem = duration_problem(template.metadata.timeout)
        if problem:
            errors.append(CompileError(ErrorCode.INVALID_VALUE, "metadata.timeout", problem))
    target = template.WhichOneof("target")
    if target == "container":
        _check_container(template, errors)
    elif target == "k8s_pod":
        _check_k8s_pod(template.k8s_pod, errors)
    if errors:
        raise CompilationFailed(errors)
    compiled = compiler_pb2.CompiledTask()
    compiled.template.CopyFrom(template)
    return compiled


# google.protobuf.Duration's own range: about 10,000 years either way.
MAX_DURATION_SECONDS = 315_576_000_000


def duration_problem(duration: duration_pb2.Duration) -> str | None:
    """Why a timeout or sleep cannot be honoured (negative, or beyond Duration's range), or None."""
    seconds, nanos = duration.seconds, duration.nanos
    if seconds < 0 or nanos < 0:
        return f"Invalid duration [{seconds}s {nanos}ns]: must not be negative."
    if seconds > MAX_DURATION_SECONDS or nanos > 999_999_999:
        return f"Invalid duration [{seconds}s {nanos}ns]: beyond the largest duration ({MAX_DURATION_SECONDS}s)."
    return None


def is_quantity(text: str) -> bool:
    """Whether `text` parses as a Kubernetes resource quantity ("500m", "1.5Gi", "2")."""
    return bool(_QUANTITY.match(text))


def _check_container(template: tasks_pb2.TaskTemplate, errors: list[CompileError]) -> None:
    container = template.container
    has_variables = bool(template.interface.inputs.variables) or bool(template.interface.outputs.variables)
    # With inputs or outputs the process must be told where they live, so it needs a command line.
    if has_variables and not container.command and not container.args:
        errors.append(CompileError(ErrorCode.VALUE_REQUIRED, "container", "Value required [command]."))
    if not container.image:
        errors.append(CompileError(ErrorCode.VALUE_REQUIRED, "container", "Value required [image]."))
    names = tasks_pb2.Resources.ResourceName
    for entry in [*container.resources.requests, *container.resources.limits]:
        if not is_quantity(entry.value):
            errors.append(
                CompileError(
                    ErrorCode.UNRECOGNIZED_VALUE,
                    f"resources.{names.Name(entry.name) if entry.name in names.values() else entry.name}",
                    f"Unrecognized value [{entry.value}].",
                )
            )


def _check_k8s_pod(pod: tasks_pb2.K8sPod, errors: list[CompileError]) -> None:
    spec = json_format.MessageToDict(pod.pod_spec) if pod.HasField("pod_spec") else None
    containers = spec.get("containers", []) if isinstance(spec, dict) else None
    if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        errors.append(CompileError(ErrorCode.INVALID_VALUE, "root", "Invalid value [k8s pod spec]."))
        return
    for container in containers:
        name = container.get("name", "")
        if not isinstance(name, str) or len(name) > 63 or not _DNS_1123_LABEL.match(name):
            errors.append(
                CompileError(ErrorCode.INVALID_VALUE, "root", f"Invalid value [k8s pod spec container name {name!r}].")
            )
