"""Dynamic nodes (§3.11.9): the workflow built from a real flytekit futures.pb compiles."""

from __future__ import annotations

from flyteidl_py.core import dynamic_job_pb2, identifier_pb2, tasks_pb2, workflow_pb2
from propeller.compiler import compile_task, compile_workflow
from propeller.data import dynamic_workflow_template
from tests.support.paths import fixtures_dir
from tests.unit.propeller.compiler.packages import load

SPEC = dynamic_job_pb2.DynamicJobSpec.FromString(
    (fixtures_dir() / "runtime" / "dyn_sum_squares.futures.pb").read_bytes()
)
PARENT = load("examples-package.tgz").tasks["examples.advanced.dyn_sum_squares"].template


def build(
    spec: dynamic_job_pb2.DynamicJobSpec = SPEC, parent: tasks_pb2.TaskTemplate = PARENT
) -> tuple[workflow_pb2.WorkflowTemplate, list[tasks_pb2.TaskTemplate], list[workflow_pb2.WorkflowTemplate]]:
    return dynamic_workflow_template(spec, "n0", parent, "proj", "dev")


def parent_with_config(**config: str) -> tasks_pb2.TaskTemplate:
    parent = tasks_pb2.TaskTemplate()
    parent.CopyFrom(PARENT)
    for key, value in config.items():
        parent.container.config.add(key=key, value=value)
    return parent


def test_dynamic_workflow_compiles_with_its_tasks() -> None:
    template, tasks, sub_workflows = build()

    closure = compile_workflow(template, sub_workflows, [compile_task(task) for task in tasks], [])

    assert {task.template.id.name for task in closure.tasks} == {"examples.advanced.square", "examples.advanced.add"}
    assert [node.id for node in closure.primary.template.nodes if node.id.startswith("dn")] == [
        f"dn{i}" for i in range(6)
    ]


def test_template_id_names_the_parent_node_in_the_execution_project_and_domain() -> None:
    template, _, _ = build()

    assert (template.id.resource_type, template.id.project, template.id.domain, template.id.name) == (
        identifier_pb2.WORKFLOW,
        "proj",
        "dev",
        "dynamic_n0",
    )
    assert len(template.id.version) == 10


def test_template_version_is_the_same_for_the_same_spec() -> None:
    copy = dynamic_job_pb2.DynamicJobSpec.FromString(SPEC.SerializeToString())

    assert build(copy)[0].id.version == build()[0].id.version


def test_template_version_changes_with_the_spec() -> None:
    changed = dynamic_job_pb2.DynamicJobSpec()
    changed.CopyFrom(SPEC)
    changed.nodes[0].inputs[0].binding.scalar.primitive.integer = 42

    assert build(changed)[0].id.version != build()[0].id.version


def test_template_has_the_spec_nodes_and_outputs() -> None:
    template, _, _ = build()

    assert list(template.nodes) == list(SPEC.nodes)
    assert list(template.outputs) == list(SPEC.outputs)


def test_template_interface_is_the_parent_task_outputs_only() -> None:
    template, _, _ = build()

    assert template.interface.outputs == PARENT.interface.outputs
    assert not template.interface.inputs.variables


def test_parent_container_config_is_appended_to_every_container_task() -> None:
    _, tasks, _ = build(parent=parent_with_config(primary_container_name="main", other="x"))

    for task in tasks:
        assert [(entry.key, entry.value) for entry in task.container.config][-2:] == [
            ("primary_container_name", "main"),
            ("other", "x"),
        ]


def test_task_config_entries_come_before_the_parent_entries() -> None:
    spec = dynamic_job_pb2.DynamicJobSpec()
    spec.CopyFrom(SPEC)
    spec.tasks[0].container.config.add(key="own", value="1")

    _, tasks, _ = build(spec, parent_with_config(inherited="2"))

    assert [(entry.key, entry.value) for entry in tasks[0].container.config] == [("own", "1"), ("inherited", "2")]


def test_spec_is_not_modified() -> None:
    before = SPEC.SerializeToString(deterministic=True)

    build(parent=parent_with_config(inherited="2"))

    assert SPEC.SerializeToString(deterministic=True) == before


def test_sub_workflows_are_passed_on() -> None:
    spec = dynamic_job_pb2.DynamicJobSpec()
    spec.CopyFrom(SPEC)
    spec.subworkflows.add().id.name = "sub"

    _, _, sub_workflows = build(spec)

    assert [sub.id.name for sub in sub_workflows] == ["sub"]
