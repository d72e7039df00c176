"""Task compilation (§1.3 item 8): id, container image/command/resources, pod spec checks."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from flyteidl_py.core import tasks_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler import CompilationFailed, compile_task
from tests.unit.propeller.compiler.builders import INT, task_template


def errors_of(template: tasks_pb2.TaskTemplate) -> set[tuple[str, str]]:
    with pytest.raises(CompilationFailed) as raised:
        compile_task(template)
    return {(e.code, e.node_id) for e in raised.value.errors}


def pod_task(containers: list[dict[str, object]] | None) -> tasks_pb2.TaskTemplate:
    template = task_template("pod", {"x": INT})
    template.ClearField("container")
    template.k8s_pod.SetInParent()
    if containers is not None:
        spec = struct_pb2.Struct()
        spec.update({"containers": containers})
        template.k8s_pod.pod_spec.CopyFrom(spec)
    return template


def test_valid_task_compiles_to_its_template() -> None:
    template = task_template("t", {"x": INT}, {"o0": INT})
    assert compile_task(template).template == template


def test_missing_id_is_value_required() -> None:
    template = task_template("t")
    template.ClearField("id")
    assert errors_of(template) == {("ValueRequired", "root")}


def test_missing_image_is_value_required() -> None:
    template = task_template("t")
    template.container.image = ""
    assert errors_of(template) == {("ValueRequired", "container")}


def test_container_with_inputs_needs_command_or_args() -> None:
    template = task_template("t", {"x": INT})
    del template.container.args[:]
    assert errors_of(template) == {("ValueRequired", "container")}


def test_container_with_command_only_compiles() -> None:
    template = task_template("t", {"x": INT})
    del template.container.args[:]
    template.container.command.append("run")
    compile_task(template)


def test_container_without_variables_needs_no_command() -> None:
    template = task_template("t")
    del template.container.args[:]
    compile_task(template)


@pytest.mark.parametrize("quantity", ["500m", "1", "1.5Gi", "256Mi", "2e3", "+1k", ".5"])
def test_parsable_resource_quantities_compile(quantity: str) -> None:
    template = task_template("t")
    template.container.resources.requests.append(
        tasks_pb2.Resources.ResourceEntry(name=tasks_pb2.Resources.CPU, value=quantity)
    )
    compile_task(template)


def test_unparsable_resource_quantity_is_unrecognized_value() -> None:
    template = task_template("t")
    template.container.resources.limits.append(
        tasks_pb2.Resources.ResourceEntry(name=tasks_pb2.Resources.MEMORY, value="lots")
    )
    assert errors_of(template) == {("UnrecognizedValue", "resources.MEMORY")}


def test_every_problem_is_reported() -> None:
    template = task_template("t", {"x": INT})
    template.ClearField("id")
    template.container.image = ""
    del template.container.args[:]
    assert errors_of(template) == {("ValueRequired", "root"), ("ValueRequired", "container")}


def test_pod_task_with_valid_container_names_compiles() -> None:
    compile_task(pod_task([{"name": "primary", "image": "img"}]))


def test_pod_container_name_must_be_a_dns_label() -> None:
    assert errors_of(pod_task([{"name": "Not_Valid"}])) == {("InvalidValue", "root")}


def test_pod_task_without_pod_spec_is_invalid() -> None:
    assert errors_of(pod_task(None)) == {("InvalidValue", "root")}


def test_pod_spec_that_is_not_a_pod_is_invalid() -> None:
    template = pod_task([])
    template.k8s_pod.pod_spec.update({"containers": "oops"})
    assert errors_of(template) == {("InvalidValue", "root")}


def test_sql_task_has_no_target_checks() -> None:
    template = task_template("q")
    template.sql.statement = "select 1"
    compile_task(template)


def test_compilation_failure_is_invalid_argument_listing_codes() -> None:
    template = task_template("t")
    template.container.image = ""
    with pytest.raises(InvalidArgument) as raised:
        compile_task(template)
    assert "Code: ValueRequired, Node Id: container" in str(raised.value)
