"""Workflows of `echo` tasks (outputs = inputs, no process): the engine's own cost, without task runtime."""

from __future__ import annotations

from flyteidl_py.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl_py.core import workflow_pb2 as core_wf

PROJECT, DOMAIN = "flytesnacks", "development"
INT = types_pb2.LiteralType(simple=types_pb2.INTEGER)


def ident(kind: int, name: str, version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=kind, project=PROJECT, domain=DOMAIN, name=name, version=version)  # type: ignore[arg-type]


def _iface(**names: types_pb2.LiteralType) -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(
        variables={n: interface_pb2.Variable(type=t, description=n) for n, t in names.items()}
    )


def echo_task(name: str = "echo.int") -> task_pb2.TaskCreateRequest:
    template = tasks_pb2.TaskTemplate(
        id=ident(identifier_pb2.TASK, name),
        type="echo",
        metadata=tasks_pb2.TaskMetadata(
            runtime=tasks_pb2.RuntimeMetadata(type=tasks_pb2.RuntimeMetadata.OTHER, version="1")
        ),
        interface=interface_pb2.TypedInterface(inputs=_iface(x=INT), outputs=_iface(x=INT)),
    )
    return task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))


def _promise(node: str, var: str) -> literals_pb2.BindingData:
    return literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node, var=var))


def chain(name: str, length: int, task: str = "echo.int") -> list[object]:
    """x -> echo -> echo -> ... -> x: registration requests (task, workflow, launch plan)."""
    nodes = []
    for i in range(length):
        upstream = f"n{i - 1}" if i else ""
        nodes.append(
            core_wf.Node(
                id=f"n{i}",
                metadata=core_wf.NodeMetadata(name="echo"),
                inputs=[literals_pb2.Binding(var="x", binding=_promise(upstream, "x"))],
                upstream_node_ids=[upstream] if upstream else [],
                task_node=core_wf.TaskNode(reference_id=ident(identifier_pb2.TASK, task)),
            )
        )
    return _register(name, nodes, [literals_pb2.Binding(var="x", binding=_promise(f"n{length - 1}", "x"))])


def fan_out(name: str, width: int, task: str = "echo.int") -> list[object]:
    """x -> width parallel echoes; output: the first one's x."""
    nodes = [
        core_wf.Node(
            id=f"n{i}",
            metadata=core_wf.NodeMetadata(name="echo"),
            inputs=[literals_pb2.Binding(var="x", binding=_promise("", "x"))],
            task_node=core_wf.TaskNode(reference_id=ident(identifier_pb2.TASK, task)),
        )
        for i in range(width)
    ]
    return _register(name, nodes, [literals_pb2.Binding(var="x", binding=_promise("n0", "x"))])


def _register(name: str, nodes: list[core_wf.Node], outputs: list[literals_pb2.Binding]) -> list[object]:
    wf_id = ident(identifier_pb2.WORKFLOW, name)
    template = core_wf.WorkflowTemplate(
        id=wf_id,
        interface=interface_pb2.TypedInterface(inputs=_iface(x=INT), outputs=_iface(x=INT)),
        nodes=nodes,
        outputs=outputs,
    )
    lp_id = ident(identifier_pb2.LAUNCH_PLAN, name)
    return [
        workflow_pb2.WorkflowCreateRequest(id=wf_id, spec=workflow_pb2.WorkflowSpec(template=template)),
        launch_plan_pb2.LaunchPlanCreateRequest(
            id=lp_id,
            spec=launch_plan_pb2.LaunchPlanSpec(
                workflow_id=wf_id,
                default_inputs=interface_pb2.ParameterMap(
                    parameters={"x": interface_pb2.Parameter(var=interface_pb2.Variable(type=INT), required=True)}
                ),
            ),
        ),
    ]


def echo_list_task(name: str = "echo.map") -> task_pb2.TaskCreateRequest:
    """An echo task with a list-ified interface, as map tasks have (x: [int] -> x: [int])."""
    ints = types_pb2.LiteralType(collection_type=INT)
    template = tasks_pb2.TaskTemplate(
        id=ident(identifier_pb2.TASK, name),
        type="echo",
        task_type_version=1,
        metadata=tasks_pb2.TaskMetadata(
            runtime=tasks_pb2.RuntimeMetadata(type=tasks_pb2.RuntimeMetadata.OTHER, version="1")
        ),
        interface=interface_pb2.TypedInterface(inputs=_iface(x=ints), outputs=_iface(x=ints)),
    )
    return task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))


def mapped(name: str, task: str = "echo.map", *, parallelism: int = 0) -> list[object]:
    """xs: [int] -> an array node over echo elements (at most `parallelism` at once, if given) -> xs."""
    ints = types_pb2.LiteralType(collection_type=INT)
    sub = core_wf.Node(
        id="echo-element",
        task_node=core_wf.TaskNode(reference_id=ident(identifier_pb2.TASK, task)),
        metadata=core_wf.NodeMetadata(name="echo"),
    )
    node = core_wf.Node(
        id="n0",
        metadata=core_wf.NodeMetadata(name="map"),
        inputs=[literals_pb2.Binding(var="x", binding=_promise("", "xs"))],
        array_node=core_wf.ArrayNode(node=sub, parallelism=parallelism) if parallelism else core_wf.ArrayNode(node=sub),
    )
    wf_id = ident(identifier_pb2.WORKFLOW, name)
    template = core_wf.WorkflowTemplate(
        id=wf_id,
        interface=interface_pb2.TypedInterface(inputs=_iface(xs=ints), outputs=_iface(xs=ints)),
        nodes=[node],
        outputs=[literals_pb2.Binding(var="xs", binding=_promise("n0", "x"))],
    )
    lp_id = ident(identifier_pb2.LAUNCH_PLAN, name)
    return [
        workflow_pb2.WorkflowCreateRequest(id=wf_id, spec=workflow_pb2.WorkflowSpec(template=template)),
        launch_plan_pb2.LaunchPlanCreateRequest(
            id=lp_id,
            spec=launch_plan_pb2.LaunchPlanSpec(
                workflow_id=wf_id,
                default_inputs=interface_pb2.ParameterMap(
                    parameters={"xs": interface_pb2.Parameter(var=interface_pb2.Variable(type=ints), required=True)}
                ),
            ),
        ),
    ]
