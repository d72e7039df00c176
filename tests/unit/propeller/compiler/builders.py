"""Small constructors for the protobuf values the compiler tests are written in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pytest

from flyteidl_py.core import (
    compiler_pb2,
    condition_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)
from propeller.compiler import CompilationFailed, LaunchPlanInterface, compile_workflow

LiteralType = types_pb2.LiteralType

INT = LiteralType(simple=types_pb2.INTEGER)
FLOAT = LiteralType(simple=types_pb2.FLOAT)
STR = LiteralType(simple=types_pb2.STRING)
BOOL = LiteralType(simple=types_pb2.BOOLEAN)
NONE = LiteralType(simple=types_pb2.NONE)
STRUCT = LiteralType(simple=types_pb2.STRUCT)
DATETIME = LiteralType(simple=types_pb2.DATETIME)
ERROR = LiteralType(simple=types_pb2.ERROR)


def list_of(element: LiteralType) -> LiteralType:
    return LiteralType(collection_type=element)


def map_of(value: LiteralType) -> LiteralType:
    return LiteralType(map_value_type=value)


def union(*variants: LiteralType) -> LiteralType:
    return LiteralType(union_type=types_pb2.UnionType(variants=variants))


def optional(inner: LiteralType) -> LiteralType:
    return union(inner, LiteralType(simple=types_pb2.NONE, structure=types_pb2.TypeStructure(tag="none")))


def enum(*values: str) -> LiteralType:
    return LiteralType(enum_type=types_pb2.EnumType(values=values))


def ident(kind: int, name: str, version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=kind, project="p", domain="d", name=name, version=version)


def task_id(name: str) -> identifier_pb2.Identifier:
    return ident(identifier_pb2.TASK, name)


def workflow_id(name: str) -> identifier_pb2.Identifier:
    return ident(identifier_pb2.WORKFLOW, name)


def launch_plan_id(name: str) -> identifier_pb2.Identifier:
    return ident(identifier_pb2.LAUNCH_PLAN, name)


def variables(types: Mapping[str, LiteralType]) -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=t, description=name) for name, t in types.items()}
    )


def interface(
    inputs: Mapping[str, LiteralType] | None = None, outputs: Mapping[str, LiteralType] | None = None
) -> interface_pb2.TypedInterface:
    return interface_pb2.TypedInterface(inputs=variables(inputs or {}), outputs=variables(outputs or {}))


def task_template(
    name: str,
    inputs: Mapping[str, LiteralType] | None = None,
    outputs: Mapping[str, LiteralType] | None = None,
) -> tasks_pb2.TaskTemplate:
    return tasks_pb2.TaskTemplate(
        id=task_id(name),
        type="python-task",
        metadata=tasks_pb2.TaskMetadata(),
        interface=interface(inputs, outputs),
        container=tasks_pb2.Container(image="img:1", args=["pyflyte-execute", "--inputs", "{{.input}}"]),
    )


def task(
    name: str,
    inputs: Mapping[str, LiteralType] | None = None,
    outputs: Mapping[str, LiteralType] | None = None,
) -> compiler_pb2.CompiledTask:
    return compiler_pb2.CompiledTask(template=task_template(name, inputs, outputs))


def promise(node_id: str, var: str, *path: str | int) -> literals_pb2.BindingData:
    attributes = [
        types_pb2.PromiseAttribute(int_value=p) if isinstance(p, int) else types_pb2.PromiseAttribute(string_value=p)
        for p in path
    ]
    return literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=var, attr_path=attributes))


def integer(value: int) -> literals_pb2.Scalar:
    return literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value))


def string(value: str) -> literals_pb2.Scalar:
    return literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value))


def scalar(value: literals_pb2.Scalar) -> literals_pb2.BindingData:
    return literals_pb2.BindingData(scalar=value)


def collection(*items: literals_pb2.BindingData) -> literals_pb2.BindingData:
    return literals_pb2.BindingData(collection=literals_pb2.BindingDataCollection(bindings=items))


def binding_map(**items: literals_pb2.BindingData) -> literals_pb2.BindingData:
    return literals_pb2.BindingData(map=literals_pb2.BindingDataMap(bindings=items))


def bindings(**values: literals_pb2.BindingData) -> list[literals_pb2.Binding]:
    return [literals_pb2.Binding(var=name, binding=data) for name, data in values.items()]


def task_node(
    node_id: str, task_name: str, upstream: Sequence[str] = (), **inputs: literals_pb2.BindingData
) -> workflow_pb2.Node:
    return workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=task_name),
        inputs=bindings(**inputs),
        upstream_node_ids=upstream,
        task_node=workflow_pb2.TaskNode(reference_id=task_id(task_name)),
    )


def workflow(
    name: str,
    nodes: Iterable[workflow_pb2.Node],
    *,
    inputs: Mapping[str, LiteralType] | None = None,
    outputs: Mapping[str, LiteralType] | None = None,
    output_bindings: Mapping[str, literals_pb2.BindingData] | None = None,
    failure_node: workflow_pb2.Node | None = None,
) -> workflow_pb2.WorkflowTemplate:
    template = workflow_pb2.WorkflowTemplate(
        id=workflow_id(name),
        metadata=workflow_pb2.WorkflowMetadata(),
        interface=interface(inputs, outputs),
        nodes=nodes,
        outputs=bindings(**(output_bindings or {})),
    )
    if failure_node is not None:
        template.failure_node.CopyFrom(failure_node)
    return template


def comparison(
    left: condition_pb2.Operand, operator: int, right: condition_pb2.Operand
) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=operator,
            left_value=left,
            right_value=right,
        )
    )


def var_operand(name: str) -> condition_pb2.Operand:
    return condition_pb2.Operand(var=name)


def int_operand(value: int) -> condition_pb2.Operand:
    return condition_pb2.Operand(primitive=literals_pb2.Primitive(integer=value))


def always_true() -> condition_pb2.BooleanExpression:
    return comparison(int_operand(1), condition_pb2.ComparisonExpression.EQ, int_operand(1))


# The tasks most workflow tests use.
DOUBLE = task("double", {"x": INT}, {"o0": INT})
ADD = task("add", {"a": INT, "b": INT}, {"o0": INT})
TO_STR = task("to_str", {"x": INT}, {"o0": STR})
NOOP = task("noop")
TASKS = [DOUBLE, ADD, TO_STR, NOOP]


def compile_ok(
    template: workflow_pb2.WorkflowTemplate,
    tasks: Sequence[compiler_pb2.CompiledTask] = TASKS,
    sub_workflows: Sequence[workflow_pb2.WorkflowTemplate] = (),
    launch_plans: Sequence[LaunchPlanInterface] = (),
) -> compiler_pb2.CompiledWorkflowClosure:
    return compile_workflow(template, sub_workflows, tasks, launch_plans)


def compile_errors(
    template: workflow_pb2.WorkflowTemplate,
    tasks: Sequence[compiler_pb2.CompiledTask] = TASKS,
    sub_workflows: Sequence[workflow_pb2.WorkflowTemplate] = (),
    launch_plans: Sequence[LaunchPlanInterface] = (),
) -> set[tuple[str, str]]:
    """The (code, node id) of every error compiling the workflow reports; fails if it compiles."""
    with pytest.raises(CompilationFailed) as raised:
        compile_workflow(template, sub_workflows, tasks, launch_plans)
    return {(error.code, error.node_id) for error in raised.value.errors}


def single_node(node: workflow_pb2.Node) -> workflow_pb2.WorkflowTemplate:
    """A workflow `wf(x: int) -> ()` around one node."""
    return workflow("wf", [node], inputs={"x": INT})
