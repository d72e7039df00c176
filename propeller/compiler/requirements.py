"""Requirements gathering: which tasks and launch plans a workflow and its sub-workflows reference."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flyteidl_py.core import identifier_pb2, workflow_pb2
from propeller.compiler.ids import IdKey, id_key


@dataclass(frozen=True)
class Requirements:
    """The task and launch-plan ids to load before compiling, each listed once in first-seen order."""

    task_ids: list[identifier_pb2.Identifier]
    launch_plan_ids: list[identifier_pb2.Identifier]


def requirements(
    primary: workflow_pb2.WorkflowTemplate, sub_workflows: Sequence[workflow_pb2.WorkflowTemplate]
) -> Requirements:
    """Every task and launch plan referenced by any node of `primary` or `sub_workflows`, at any depth."""
    tasks: dict[IdKey, identifier_pb2.Identifier] = {}
    launch_plans: dict[IdKey, identifier_pb2.Identifier] = {}
    for template in [primary, *sub_workflows]:
        for node in _template_nodes(template):
            kind = node.WhichOneof("target")
            if kind == "task_node" and node.task_node.HasField("reference_id"):
                tasks.setdefault(id_key(node.task_node.reference_id), node.task_node.reference_id)
            elif kind == "workflow_node" and node.workflow_node.HasField("launchplan_ref"):
                ref = node.workflow_node.launchplan_ref
                launch_plans.setdefault(id_key(ref), ref)
    return Requirements(task_ids=list(tasks.values()), launch_plan_ids=list(launch_plans.values()))


def _template_nodes(template: workflow_pb2.WorkflowTemplate) -> Iterator[workflow_pb2.Node]:
    for node in template.nodes:
        yield from nested_nodes(node)
    if template.HasField("failure_node"):
        yield from nested_nodes(template.failure_node)


def nested_nodes(node: workflow_pb2.Node) -> Iterator[workflow_pb2.Node]:
    """The node itself, then every node nested in it: branch cases and else, array sub-nodes, recursively."""
    yield node
    kind = node.WhichOneof("target")
    if kind == "branch_node":
        if_else = node.branch_node.if_else
        for block in [if_else.case, *if_else.other]:
            if block.HasField("then_node"):
                yield from nested_nodes(block.then_node)
        if if_else.HasField("else_node"):
            yield from nested_nodes(if_else.else_node)
    elif kind == "array_node" and node.array_node.HasField("node"):
        yield from nested_nodes(node.array_node.node)
