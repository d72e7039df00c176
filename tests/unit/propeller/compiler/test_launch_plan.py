"""Launch-plan validation (§1.14): inputs against the workflow interface, schedules, notifications, labels."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2, timestamp_pb2

from flyteidl_py.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl_py.core import artifact_id_pb2, execution_pb2, interface_pb2, literals_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler import validate_launch_plan
from tests.unit.propeller.compiler.builders import (
    DATETIME,
    INT,
    STR,
    LiteralType,
    integer,
    interface,
    list_of,
    string,
    variables,
    workflow_id,
)

WORKFLOW = interface({"a": INT, "b": STR, "c": list_of(INT)}, {"o0": INT})


def default(value: literals_pb2.Scalar, literal_type: LiteralType = INT) -> interface_pb2.Parameter:
    return interface_pb2.Parameter(
        var=interface_pb2.Variable(type=literal_type),
        default=literals_pb2.Literal(scalar=value),
    )


def spec(
    defaults: dict[str, interface_pb2.Parameter] | None = None,
    fixed: dict[str, literals_pb2.Literal] | None = None,
) -> launch_plan_pb2.LaunchPlanSpec:
    return launch_plan_pb2.LaunchPlanSpec(
        workflow_id=workflow_id("wf"),
        entity_metadata=launch_plan_pb2.LaunchPlanMetadata(),
        default_inputs=interface_pb2.ParameterMap(parameters=defaults or {}),
        fixed_inputs=literals_pb2.LiteralMap(literals=fixed or {}),
    )


def rejected(lp: launch_plan_pb2.LaunchPlanSpec, workflow: interface_pb2.TypedInterface = WORKFLOW) -> str:
    with pytest.raises(InvalidArgument) as raised:
        validate_launch_plan(lp, workflow)
    return raised.value.message


def test_expected_inputs_are_defaults_plus_unbound_workflow_inputs_as_required() -> None:
    expected_inputs, _ = validate_launch_plan(
        spec({"a": default(integer(1))}, {"b": literals_pb2.Literal(scalar=string("s"))}), WORKFLOW
    )
    assert expected_inputs.parameters["a"] == default(integer(1))
    assert "b" not in expected_inputs.parameters
    assert expected_inputs.parameters["c"].required
    assert expected_inputs.parameters["c"].var == WORKFLOW.inputs.variables["c"]


def test_expected_outputs_are_the_workflow_outputs() -> None:
    _, expected_outputs = validate_launch_plan(spec(), WORKFLOW)
    assert expected_outputs == variables({"o0": INT})


def test_default_input_unknown_to_the_workflow_is_rejected() -> None:
    assert rejected(spec({"z": default(integer(1))})) == "unexpected default_input z"


def test_fixed_input_unknown_to_the_workflow_is_rejected() -> None:
    assert rejected(spec(fixed={"z": literals_pb2.Literal(scalar=integer(1))})) == "unexpected fixed_input z"


def test_fixed_input_of_the_wrong_type_is_rejected() -> None:
    assert rejected(spec(fixed={"a": literals_pb2.Literal(scalar=string("s"))})).startswith(
        "invalid fixed_input wrong type a"
    )


def test_default_literal_not_matching_its_parameter_type_is_rejected() -> None:
    assert rejected(spec({"a": default(string("s"))})).startswith("Type mismatch for Parameter a")


def test_default_parameter_type_not_castable_to_the_workflow_input_is_rejected() -> None:
    assert rejected(spec({"a": default(string("s"), STR)})).startswith("invalid default_input wrong type a")


def test_parameter_with_neither_default_nor_required_is_rejected() -> None:
    parameter = interface_pb2.Parameter(var=interface_pb2.Variable(type=INT), required=False)
    assert "variable has neither default, nor is required" in rejected(spec({"a": parameter}))


def test_required_parameter_is_accepted() -> None:
    parameter = interface_pb2.Parameter(var=interface_pb2.Variable(type=INT), required=True)
    expected_inputs, _ = validate_launch_plan(spec({"a": parameter}), WORKFLOW)
    assert expected_inputs.parameters["a"].required


def test_parameter_without_type_is_rejected() -> None:
    parameter = interface_pb2.Parameter(var=interface_pb2.Variable(), required=True)
    assert rejected(spec({"a": parameter})) == "missing type in default_inputs a"


def test_artifact_query_without_artifact_mode_is_rejected() -> None:
    parameter = interface_pb2.Parameter(
        var=interface_pb2.Variable(type=INT), artifact_query=artifact_id_pb2.ArtifactQuery()
    )
    assert rejected(spec({"a": parameter})).startswith("artifact mode not enabled")


def test_inputs_for_a_workflow_without_inputs_are_rejected() -> None:
    assert rejected(spec({"a": default(integer(1))}), interface({}, {})) == (
        "invalid launch plan default inputs, expected none but found 1"
    )


def test_fixed_datetime_out_of_range_is_rejected() -> None:
    wf = interface({"t": DATETIME})
    stamp = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(
            primitive=literals_pb2.Primitive(datetime=timestamp_pb2.Timestamp(seconds=300_000_000_000))
        )
    )
    assert "out of range" in rejected(spec(fixed={"t": stamp}), wf)


def scheduled(
    expression: str, kickoff: str = "", **defaults: interface_pb2.Parameter
) -> launch_plan_pb2.LaunchPlanSpec:
    lp = spec(defaults)
    lp.entity_metadata.schedule.CopyFrom(
        schedule_pb2.Schedule(
            cron_schedule=schedule_pb2.CronSchedule(schedule=expression), kickoff_time_input_arg=kickoff
        )
    )
    return lp


def _all_defaults() -> dict[str, interface_pb2.Parameter]:
    return {
        "a": default(integer(1)),
        "b": default(string("s"), STR),
        "c": interface_pb2.Parameter(
            var=interface_pb2.Variable(type=list_of(INT)),
            default=literals_pb2.Literal(collection=literals_pb2.LiteralCollection()),
        ),
    }


@pytest.mark.parametrize("expression", ["*/5 * * * *", "0 9 * * MON-FRI", "@hourly", "@every 1h30m", "0 0 1 JAN,JUL ?"])
def test_schedule_with_valid_cron_and_no_required_inputs_is_accepted(expression: str) -> None:
    validate_launch_plan(scheduled(expression, **_all_defaults()), WORKFLOW)


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "@fortnightly", "*/0 * * * *"])
def test_schedule_with_invalid_cron_is_rejected(expression: str) -> None:
    assert rejected(scheduled(expression, **_all_defaults())).startswith("invalid cron expression")


def test_schedule_with_a_required_input_is_rejected() -> None:
    assert "unbound required input. [b] is required" in rejected(scheduled("@daily", a=default(integer(1))))


def test_kickoff_input_may_stay_required_when_it_is_a_datetime() -> None:
    wf = interface({"t": DATETIME})
    validate_launch_plan(scheduled("@daily", kickoff="t"), wf)


def test_kickoff_input_must_be_a_datetime() -> None:
    wf = interface({"t": INT})
    assert rejected(scheduled("@daily", kickoff="t"), wf).startswith("KickoffTimeInputArg must reference a datetime")


def test_kickoff_input_must_exist() -> None:
    wf = interface({"t": DATETIME})
    lp = scheduled("@daily", kickoff="missing")
    assert "unbound required input" in rejected(lp, wf)


def test_launch_conditions_must_be_empty() -> None:
    lp = spec(_all_defaults())
    lp.entity_metadata.launch_conditions.CopyFrom(any_pb2.Any(type_url="x/y"))
    assert rejected(lp).startswith("Launch condition must be empty")


def notifying(notification: common_pb2.Notification) -> launch_plan_pb2.LaunchPlanSpec:
    lp = spec(_all_defaults())
    lp.entity_metadata.notifications.append(notification)
    return lp


def test_notification_on_terminal_phases_is_accepted() -> None:
    notification = common_pb2.Notification(
        phases=[execution_pb2.WorkflowExecution.FAILED, execution_pb2.WorkflowExecution.SUCCEEDED],
        email=common_pb2.EmailNotification(recipients_email=["a@b.c"]),
    )
    validate_launch_plan(notifying(notification), WORKFLOW)


def test_notification_on_a_non_terminal_phase_is_rejected() -> None:
    notification = common_pb2.Notification(
        phases=[execution_pb2.WorkflowExecution.RUNNING],
        slack=common_pb2.SlackNotification(recipients_email=["x"]),
    )
    assert rejected(notifying(notification)) == "invalid value for phase: RUNNING"


def test_notification_without_recipients_is_rejected() -> None:
    notification = common_pb2.Notification(pager_duty=common_pb2.PagerDutyNotification())
    assert rejected(notifying(notification)) == "missing recipients"


def test_invalid_label_key_is_rejected() -> None:
    lp = spec(_all_defaults())
    lp.labels.values["bad key!"] = "v"
    assert rejected(lp).startswith("invalid label key")


def test_valid_labels_are_accepted() -> None:
    lp = spec(_all_defaults())
    lp.labels.values["example.com/team"] = "data-eng"
    lp.labels.values["empty"] = ""
    validate_launch_plan(lp, WORKFLOW)
