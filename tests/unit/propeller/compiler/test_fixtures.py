"""The real flytekit 1.16.31 example packages: every task and workflow compiles into a usable closure."""

from __future__ import annotations

import pytest

from flyteidl_py.core import compiler_pb2, workflow_pb2
from propeller.compiler import (
    LaunchPlanInterface,
    compile_task,
    compile_workflow,
    digest,
    requirements,
    validate_launch_plan,
)
from propeller.compiler.ids import id_key
from propeller.compiler.requirements import nested_nodes
from tests.unit.propeller.compiler.packages import PACKAGES, Package, load


def compiled_tasks(package: Package) -> list[compiler_pb2.CompiledTask]:
    return [compile_task(spec.template) for spec in package.tasks.values()]


def launch_plan_interfaces(package: Package) -> list[LaunchPlanInterface]:
    interfaces = []
    for launch_plan in package.launch_plans.values():
        workflow = package.workflows[launch_plan.spec.workflow_id.name].template
        expected_inputs, expected_outputs = validate_launch_plan(launch_plan.spec, workflow.interface)
        interfaces.append(LaunchPlanInterface(launch_plan.id, expected_inputs, expected_outputs))
    return interfaces


def compile_package_workflow(package: Package, name: str) -> compiler_pb2.CompiledWorkflowClosure:
    spec = package.workflows[name]
    return compile_workflow(spec.template, spec.sub_workflows, compiled_tasks(package), launch_plan_interfaces(package))


def all_nodes(template: workflow_pb2.WorkflowTemplate) -> list[workflow_pb2.Node]:
    nodes = [nested for node in template.nodes for nested in nested_nodes(node)]
    if template.HasField("failure_node"):
        nodes.extend(nested_nodes(template.failure_node))
    return nodes


PACKAGE_TASKS = [(p, name) for p in PACKAGES for name in sorted(load(p).tasks)]
PACKAGE_WORKFLOWS = [(p, name) for p in PACKAGES for name in sorted(load(p).workflows)]
PACKAGE_LAUNCH_PLANS = [(p, name) for p in PACKAGES for name in sorted(load(p).launch_plans)]


@pytest.mark.parametrize(("package", "name"), PACKAGE_TASKS)
def test_every_package_task_compiles(package: str, name: str) -> None:
    template = load(package).tasks[name].template
    assert compile_task(template).template == template


@pytest.mark.parametrize(("package", "name"), PACKAGE_LAUNCH_PLANS)
def test_every_package_launch_plan_validates(package: str, name: str) -> None:
    pkg = load(package)
    launch_plan = pkg.launch_plans[name]
    workflow = pkg.workflows[launch_plan.spec.workflow_id.name].template
    expected_inputs, expected_outputs = validate_launch_plan(launch_plan.spec, workflow.interface)
    assert set(expected_inputs.parameters) == set(workflow.interface.inputs.variables)
    assert expected_outputs == workflow.interface.outputs


@pytest.mark.parametrize(("package", "name"), PACKAGE_WORKFLOWS)
def test_every_package_workflow_compiles_with_every_referenced_task(package: str, name: str) -> None:
    pkg = load(package)
    spec = pkg.workflows[name]
    closure = compile_package_workflow(pkg, name)
    referenced = {
        id_key(node.task_node.reference_id)
        for template in [spec.template, *spec.sub_workflows]
        for node in all_nodes(template)
        if node.WhichOneof("target") == "task_node"
    }
    assert {id_key(task.template.id) for task in closure.tasks} == referenced
    sub_workflow_refs = {
        id_key(node.workflow_node.sub_workflow_ref)
        for node in all_nodes(spec.template)
        if node.WhichOneof("target") == "workflow_node" and node.workflow_node.HasField("sub_workflow_ref")
    }
    assert {id_key(sub.template.id) for sub in closure.sub_workflows} == sub_workflow_refs


@pytest.mark.parametrize("package", PACKAGES)
def test_requirements_of_a_package_workflow_are_all_in_the_package(package: str) -> None:
    pkg = load(package)
    spec = pkg.workflows["examples.advanced.advanced_wf"]
    needs = requirements(spec.template, spec.sub_workflows)
    task_ids = {id_key(spec.template.id) for spec in pkg.tasks.values()}
    assert {id_key(i) for i in needs.task_ids} <= task_ids
    assert [i.name for i in needs.launch_plan_ids] == ["examples.advanced.sub_lp"]


def test_advanced_workflow_closure_has_each_node_kind() -> None:
    closure = compile_package_workflow(load("examples-package.tgz"), "examples.advanced.advanced_wf")
    nodes = {node.id: node for node in closure.primary.template.nodes}
    assert list(nodes) == ["start-node", "end-node", "n0", "n1", "n2", "n3", "n4", "n5"]
    assert nodes["n1"].array_node.node.task_node.reference_id.name.endswith("-arraynode")
    branch = nodes["n3"].branch_node.if_else
    assert [branch.case.then_node.id, branch.other[0].then_node.id, branch.else_node.id] == [
        "n3-n0",
        "n3-n1",
        "n3-n2",
    ]
    assert nodes["n4"].workflow_node.sub_workflow_ref.name == "examples.advanced.sub_wf"
    assert nodes["n5"].workflow_node.launchplan_ref.name == "examples.advanced.sub_lp"
    assert [s.template.id.name for s in closure.sub_workflows] == ["examples.advanced.sub_wf"]
    assert len(closure.tasks) == 7


def test_advanced_workflow_connections() -> None:
    connections = compile_package_workflow(
        load("examples-package.tgz"), "examples.advanced.advanced_wf"
    ).primary.connections
    downstream = {key: list(value.ids) for key, value in connections.downstream.items()}
    upstream = {key: list(value.ids) for key, value in connections.upstream.items()}
    assert downstream["start-node"] == ["n0", "n1", "n3", "n4", "n5"]
    assert downstream["n1"] == ["end-node", "n2"]
    assert downstream["n2"] == ["end-node", "n4"]
    assert upstream["n3-n0"] == ["n2"]
    assert upstream["n4"] == ["n2", "start-node"]
    assert upstream["end-node"] == ["n0", "n1", "n2", "n3", "n4", "n5"]


@pytest.mark.parametrize(("package", "name"), PACKAGE_WORKFLOWS)
def test_package_workflow_digest_is_stable(package: str, name: str) -> None:
    pkg = load(package)
    assert digest(compile_package_workflow(pkg, name)) == digest(compile_package_workflow(pkg, name))
