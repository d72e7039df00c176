"""Launch-plan validation against its workflow's interface, and the interface a launch-plan node sees."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flyteidl_py.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl_py.core import execution_pb2, identifier_pb2, interface_pb2, literals_pb2, types_pb2
from flyteplane.errors import InvalidArgument
from flyteplane.schedules import check_schedule
from propeller.compiler.literals import checked_literal_type, infer_literal_type
from propeller.compiler.types import is_castable, type_str, validate_literal_type

_TERMINAL_PHASES = frozenset(
    {
        execution_pb2.WorkflowExecution.SUCCEEDED,
        execution_pb2.WorkflowExecution.FAILED,
        execution_pb2.WorkflowExecution.TIMED_OUT,
        execution_pb2.WorkflowExecution.ABORTED,
    }
)
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# protobuf Timestamp bounds: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799


@dataclass(frozen=True)
class LaunchPlanInterface:
    """What a launch-plan node needs of the launch plan it references: its id and closure interface."""

    id: identifier_pb2.Identifier
    expected_inputs: interface_pb2.ParameterMap
    expected_outputs: interface_pb2.VariableMap


def validate_launch_plan(
    spec: launch_plan_pb2.LaunchPlanSpec,
    workflow_interface: interface_pb2.TypedInterface,
    *,
    artifacts_enabled: bool = False,
) -> tuple[interface_pb2.ParameterMap, interface_pb2.VariableMap]:
    """Validate a launch-plan spec against its workflow's interface (CreateLaunchPlan rules).

    Returns the closure's `expected_inputs` (the default inputs plus every workflow input bound by neither a
    default nor a fixed input, as a required parameter; admin stores it in place of `spec.default_inputs`)
    and `expected_outputs` (the workflow outputs). Raises InvalidArgument naming the offending field.
    """
    _validate_labels(spec.labels)
    _validate_fixed_inputs(spec.fixed_inputs)
    _validate_default_inputs(spec.default_inputs, artifacts_enabled=artifacts_enabled)
    expected_inputs = _expected_inputs(workflow_interface.inputs, spec.fixed_inputs, spec.default_inputs)
    _validate_schedule(spec.entity_metadata.schedule, expected_inputs)
    _validate_notifications(spec.entity_metadata.notifications)
    if spec.entity_metadata.HasField("launch_conditions"):
        raise InvalidArgument(
            "Launch condition must be empty, found launch conditions",
            field="spec.entity_metadata.launch_conditions",
        )
    expected_outputs = interface_pb2.VariableMap()
    expected_outputs.CopyFrom(workflow_interface.outputs)
    return expected_inputs, expected_outputs


def _validate_labels(labels: common_pb2.Labels) -> None:
    for key, value in sorted(labels.values.items()):
        prefix, slash, name = key.rpartition("/")
        if (
            len(name) > 63
            or not _LABEL_NAME.match(name)
            or (slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))
        ):
            raise InvalidArgument(f"invalid label key [{key}]: must be a qualified name", field="spec.labels")
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            raise InvalidArgument(f"invalid label value [{value}] for key [{key}]", field="spec.labels")


def _check_datetime(literal: literals_pb2.Literal, where: str) -> None:
    primitive = literal.scalar.primitive
    if primitive.WhichOneof("value") != "datetime":
        return
    stamp = primitive.datetime
    if not _MIN_SECONDS <= stamp.seconds <= _MAX_SECONDS or not 0 <= stamp.nanos < 1_000_000_000:
        raise InvalidArgument(f"timestamp ({stamp.seconds}, {stamp.nanos}) is out of range", field=where)


def _validate_fixed_inputs(fixed: literals_pb2.LiteralMap) -> None:
    for name in sorted(fixed.literals):
        literal = fixed.literals[name]
        if not name:
            raise InvalidArgument("missing key in fixed_inputs", field="spec.fixed_inputs")
        if literal.WhichOneof("value") is None:
            raise InvalidArgument(f"missing valid literal in fixed_inputs {name}", field=f"spec.fixed_inputs.{name}")
        _check_datetime(literal, f"spec.fixed_inputs.{name}")


def _validate_default_inputs(defaults: interface_pb2.ParameterMap, *, artifacts_enabled: bool) -> None:
    for name in sorted(defaults.parameters):
        parameter = defaults.parameters[name]
        where = f"spec.default_inputs.{name}"
        if not name:
            raise InvalidArgument("missing key in default_inputs", field="spec.default_inputs")
        if not parameter.HasField("var"):
            raise InvalidArgument(f"missing var in default_inputs {name}", field=where)
        if not parameter.var.HasField("type"):
            raise InvalidArgument(f"missing type in default_inputs {name}", field=where)
        behavior = parameter.WhichOneof("behavior")
        if behavior in ("artifact_query", "artifact_id") and not artifacts_enabled:
            raise InvalidArgument(f"artifact mode not enabled but query found for default input {name}", field=where)
        if behavior == "default":
            found = infer_literal_type(parameter.default)
            if found is None:
                raise InvalidArgument(
                    f"Failed to validate literal type for [{name}] with err: literal has no value set",
                    field=where,
                )
            try:
                validate_literal_type(found)
            except InvalidArgument as exc:
                raise InvalidArgument(
                    f"Failed to validate literal type for [{name}] with err: {exc.message}", field=where
                ) from exc
            if not is_castable(found, parameter.var.type):
                raise InvalidArgument(
                    f"Type mismatch for Parameter {name} in default_inputs has type "
                    f"{type_str(parameter.var.type)}, expected {type_str(found)}",
                    field=where,
                )
            _check_datetime(parameter.default, where)
        elif behavior not in ("artifact_query", "artifact_id") and not parameter.required:
            raise InvalidArgument(
                f"Invalid variable {name} in default_inputs - variable has neither default, nor is required. "
                "One must be specified",
                field=where,
            )


def _expected_inputs(
    workflow_inputs: interface_pb2.VariableMap,
    fixed: literals_pb2.LiteralMap,
    defaults: interface_pb2.ParameterMap,
) -> interface_pb2.ParameterMap:
    expected = interface_pb2.ParameterMap()
    variables = workflow_inputs.variables
    if not variables:
        if defaults.parameters:
            raise InvalidArgument(
                f"invalid launch plan default inputs, expected none but found {len(defaults.parameters)}",
                field="spec.default_inputs",
            )
        if fixed.literals:
            raise InvalidArgument(
                f"invalid launch plan fixed inputs, expected none but found {len(fixed.literals)}",
                field="spec.fixed_inputs",
            )
        return expected
    for name in sorted(defaults.parameters):
        parameter = defaults.parameters[name]
        if name not in variables:
            raise InvalidArgument(f"unexpected default_input {name}", field=f"spec.default_inputs.{name}")
        if not is_castable(parameter.var.type, variables[name].type):
            raise InvalidArgument(
                f"invalid default_input wrong type {name}, expected {type_str(parameter.var.type)}, "
                f"got {type_str(variables[name].type)} instead",
                field=f"spec.default_inputs.{name}",
            )
    for name in sorted(variables):
        if name in defaults.parameters:
            expected.parameters[name].CopyFrom(defaults.parameters[name])
        elif name not in fixed.literals:
            expected.parameters[name].CopyFrom(interface_pb2.Parameter(var=variables[name], required=True))
    for name in sorted(fixed.literals):
        if name not in variables:
            raise InvalidArgument(f"unexpected fixed_input {name}", field=f"spec.fixed_inputs.{name}")
        try:
            found = checked_literal_type(fixed.literals[name])
        except InvalidArgument as exc:
            raise InvalidArgument(
                f"Failed to validate literal type for [{name}] with err: {exc.message}",
                field=f"spec.fixed_inputs.{name}",
            ) from exc
        if not is_castable(found, variables[name].type):
            raise InvalidArgument(
                f"invalid fixed_input wrong type {name}, expected {type_str(variables[name].type)}, "
                f"got {type_str(found)} instead",
                field=f"spec.fixed_inputs.{name}",
            )
    return expected


def _validate_schedule(schedule: schedule_pb2.Schedule, expected: interface_pb2.ParameterMap) -> None:
    kind = schedule.WhichOneof("ScheduleExpression")
    if kind is None:
        return
    where = "spec.entity_metadata.schedule"
    kickoff = schedule.kickoff_time_input_arg
    for name in sorted(expected.parameters):
        if expected.parameters[name].required and name != kickoff:
            raise InvalidArgument(
                f"Cannot create a launch plan with a schedule if there is an unbound required input. "
                f"[{name}] is required",
                field=where,
            )
    if kickoff:
        parameter = expected.parameters.get(kickoff)
        if parameter is None:
            raise InvalidArgument(
                f"Cannot create a schedule with a KickoffTimeInputArg that does not point to a free input. "
                f"[{kickoff}] is not free or does not exist.",
                field=f"{where}.kickoff_time_input_arg",
            )
        kickoff_type = parameter.var.type
        if kickoff_type.WhichOneof("type") != "simple" or kickoff_type.simple != types_pb2.DATETIME:
            raise InvalidArgument(
                f"KickoffTimeInputArg must reference a datetime input. [{kickoff}] is a [{type_str(kickoff_type)}]",
                field=f"{where}.kickoff_time_input_arg",
            )
    check_schedule(schedule, where)


def _validate_notifications(notifications: Iterable[common_pb2.Notification]) -> None:
    for index, notification in enumerate(notifications):
        where = f"spec.entity_metadata.notifications[{index}]"
        kind = notification.WhichOneof("type")
        if kind is None:
            raise InvalidArgument("Unrecognized notification type", field=where)
        target = getattr(notification, kind)
        recipients = list(target.recipients_email)
        if not recipients:
            raise InvalidArgument("missing recipients", field=f"{where}.{kind}.recipients_email")
        if any(not recipient for recipient in recipients):
            raise InvalidArgument("recipient cannot be empty", field=f"{where}.{kind}.recipients_email")
        for phase in notification.phases:
            if phase not in _TERMINAL_PHASES:
                known = phase in execution_pb2.WorkflowExecution.Phase.values()
                name = execution_pb2.WorkflowExecution.Phase.Name(phase) if known else str(phase)
                raise InvalidArgument(f"invalid value for phase: {name}", field=f"{where}.phases")
