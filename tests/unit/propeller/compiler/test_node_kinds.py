"""Node interface derivation (§1.5, §1.6): sub-workflow, launch-plan, gate and array nodes."""

from __future__ import annotations

from google.protobuf import duration_pb2, wrappers_pb2

from flyteidl_py.core import interface_pb2, literals_pb2, workflow_pb2
from propeller.compiler import LaunchPlanInterface
from tests.unit.propeller.compiler.builders import (
    BOOL,
    INT,
    STR,
    TASKS,
    compile_errors,
    compile_ok,
    integer,
    launch_plan_id,
    list_of,
    promise,
    scalar,
    single_node,
    string,
    task,
    task_node,
    variables,
    workflow,
    workflow_id,
)

# ---- sub-workflows ---------------------------------------------------------------------------------


def sub_workflow(name: str = "sub", *nodes: workflow_pb2.Node) -> workflow_pb2.WorkflowTemplate:
    """sub(y: int) -> o0: int, doubling y unless other nodes are given."""
    return workflow(
        name,
        list(nodes) or [task_node("n0", "double", x=promise("", "y"))],
        inputs={"y": INT},
        outputs={"o0": INT},
        output_bindings={"o0": promise("n0", "o0")},
    )


def sub_workflow_node(node_id: str, name: str = "sub", **inputs: literals_pb2.BindingData) -> workflow_pb2.Node:
    node = workflow_pb2.Node(id=node_id, workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=workflow_id(name)))
    for var, data in inputs.items():
        node.inputs.add(var=var).binding.CopyFrom(data)
    return node


def test_sub_workflow_is_compiled_into_the_closure() -> None:
    closure = compile_ok(single_node(sub_workflow_node("n0", y=promise("", "x"))), sub_workflows=[sub_workflow()])
    [compiled] = closure.sub_workflows
    assert compiled.template.id == workflow_id("sub")
    assert [n.id for n in compiled.template.nodes] == ["start-node", "end-node", "n0"]
    assert compiled.connections.downstream["start-node"].ids == ["n0"]
    assert [t.template.id.name for t in closure.tasks] == ["double"]


def test_sub_workflow_node_outputs_come_from_its_interface() -> None:
    wf = workflow(
        "wf",
        [sub_workflow_node("n0", y=promise("", "x")), task_node("n1", "double", x=promise("n0", "o0"))],
        inputs={"x": INT},
    )
    compile_ok(wf, sub_workflows=[sub_workflow()])


def test_sub_workflow_node_inputs_are_type_checked() -> None:
    node = sub_workflow_node("n0", y=scalar(integer(1)))
    node.inputs[0].binding.scalar.primitive.string_value = "one"
    assert compile_errors(single_node(node), sub_workflows=[sub_workflow()]) == {("MismatchingTypes", "n0")}


def test_unknown_sub_workflow_is_workflow_reference_not_found() -> None:
    assert compile_errors(single_node(sub_workflow_node("n0", y=promise("", "x")))) == {
        ("WorkflowReferenceNotFound", "n0")
    }


def test_workflow_node_without_reference_is_workflow_reference_not_found() -> None:
    node = workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode())
    assert compile_errors(single_node(node)) == {("WorkflowReferenceNotFound", "n0")}


def test_sub_workflow_without_interface_is_value_required() -> None:
    sub = sub_workflow()
    sub.ClearField("interface")
    sub.ClearField("outputs")
    sub.nodes[0].inputs[0].binding.CopyFrom(scalar(integer(1)))
    assert compile_errors(single_node(sub_workflow_node("n0")), sub_workflows=[sub]) == {("ValueRequired", "n0")}


def test_nested_sub_workflows_are_all_in_the_closure() -> None:
    middle = sub_workflow("middle", sub_workflow_node("n0", "sub", y=promise("", "y")))
    closure = compile_ok(
        single_node(sub_workflow_node("n0", "middle", y=promise("", "x"))),
        sub_workflows=[middle, sub_workflow()],
    )
    assert [s.template.id.name for s in closure.sub_workflows] == ["middle", "sub"]


def test_unreferenced_sub_workflows_are_left_out() -> None:
    closure = compile_ok(single_node(task_node("n0", "noop")), sub_workflows=[sub_workflow()])
    assert list(closure.sub_workflows) == []


def test_errors_inside_a_sub_workflow_are_reported() -> None:
    broken = sub_workflow("sub", task_node("n0", "missing", x=promise("", "y")))
    assert ("TaskReferenceNotFound", "n0") in compile_errors(
        single_node(sub_workflow_node("s", y=promise("", "x"))), sub_workflows=[broken]
    )


def test_sub_workflow_referencing_itself_is_a_cycle() -> None:
    looping = sub_workflow("sub", sub_workflow_node("n0", "sub", y=promise("", "y")))
    assert ("CycleDetected", "n0") in compile_errors(
        single_node(sub_workflow_node("s", y=promise("", "x"))), sub_workflows=[looping]
    )


def test_duplicate_sub_workflow_ids_are_duplicate_id() -> None:
    node = sub_workflow_node("n0", y=promise("", "x"))
    assert ("DuplicateId", "sub") in compile_errors(single_node(node), sub_workflows=[sub_workflow(), sub_workflow()])


# ---- launch plans ----------------------------------------------------------------------------------

LP = LaunchPlanInterface(
    id=launch_plan_id("lp"),
    expected_inputs=interface_pb2.ParameterMap(
        parameters={
            "a": interface_pb2.Parameter(var=interface_pb2.Variable(type=INT), required=True),
            "b": interface_pb2.Parameter(
                var=interface_pb2.Variable(type=STR), default=literals_pb2.Literal(scalar=string("b"))
            ),
        }
    ),
    expected_outputs=variables({"o0": INT}),
)


def launch_plan_node(node_id: str, name: str = "lp", **inputs: literals_pb2.BindingData) -> workflow_pb2.Node:
    node = workflow_pb2.Node(id=node_id, workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=launch_plan_id(name)))
    for var, data in inputs.items():
        node.inputs.add(var=var).binding.CopyFrom(data)
    return node


def test_launch_plan_node_binding_required_inputs_compiles() -> None:
    wf = workflow(
        "wf",
        [launch_plan_node("n0", a=promise("", "x")), task_node("n1", "double", x=promise("n0", "o0"))],
        inputs={"x": INT},
    )
    compile_ok(wf, launch_plans=[LP])


def test_launch_plan_node_may_bind_inputs_that_have_defaults() -> None:
    compile_ok(single_node(launch_plan_node("n0", a=promise("", "x"), b=scalar(string("s")))), launch_plans=[LP])


def test_launch_plan_default_input_is_type_checked_when_bound() -> None:
    node = launch_plan_node("n0", a=promise("", "x"), b=promise("", "x"))
    assert compile_errors(single_node(node), launch_plans=[LP]) == {("MismatchingTypes", "n0")}


def test_launch_plan_required_input_left_unbound_is_parameter_not_bound() -> None:
    assert compile_errors(single_node(launch_plan_node("n0")), launch_plans=[LP]) == {("ParameterNotBound", "n0")}


def test_launch_plan_node_cannot_bind_unknown_inputs() -> None:
    node = launch_plan_node("n0", a=promise("", "x"), c=promise("", "x"))
    assert compile_errors(single_node(node), launch_plans=[LP]) == {("VariableNameNotFound", "n0")}


def test_unknown_launch_plan_is_workflow_reference_not_found() -> None:
    assert compile_errors(single_node(launch_plan_node("n0", "other", a=promise("", "x"))), launch_plans=[LP]) == {
        ("WorkflowReferenceNotFound", "n0")
    }


def test_launch_plan_reference_to_the_workflow_itself_uses_its_own_interface() -> None:
    wf = single_node(launch_plan_node("n0", "wf", x=promise("", "x")))
    wf.id.CopyFrom(launch_plan_id("wf"))
    compile_ok(wf)


# ---- gates -----------------------------------------------------------------------------------------


def gate(node_id: str, condition: workflow_pb2.GateNode, **inputs: literals_pb2.BindingData) -> workflow_pb2.Node:
    node = workflow_pb2.Node(id=node_id, gate_node=condition)
    for var, data in inputs.items():
        node.inputs.add(var=var).binding.CopyFrom(data)
    return node


def test_approve_gate_passes_its_inputs_through_as_outputs() -> None:
    approve = workflow_pb2.GateNode(approve=workflow_pb2.ApproveCondition(signal_id="ok"))
    wf = workflow(
        "wf",
        [gate("n0", approve, value=promise("", "x")), task_node("n1", "double", x=promise("n0", "value"))],
        inputs={"x": INT},
    )
    assert compile_ok(wf).primary.connections.downstream["n0"].ids == ["n1"]


def test_approve_gate_output_keeps_the_bound_type() -> None:
    approve = workflow_pb2.GateNode(approve=workflow_pb2.ApproveCondition(signal_id="ok"))
    wf = workflow(
        "wf",
        [gate("n0", approve, value=scalar(string("s"))), task_node("n1", "double", x=promise("n0", "value"))],
    )
    assert compile_errors(wf) == {("MismatchingTypes", "n1")}


def test_signal_gate_outputs_its_signal_variable() -> None:
    signal = workflow_pb2.GateNode(
        signal=workflow_pb2.SignalCondition(signal_id="s", type=INT, output_variable_name="o0")
    )
    wf = workflow("wf", [gate("n0", signal), task_node("n1", "double", x=promise("n0", "o0"))])
    compile_ok(wf)


def test_signal_gate_without_type_is_value_required() -> None:
    signal = workflow_pb2.GateNode(signal=workflow_pb2.SignalCondition(signal_id="s", output_variable_name="o0"))
    assert compile_errors(workflow("wf", [gate("n0", signal)])) == {("ValueRequired", "n0")}


def test_signal_gate_without_output_name_is_value_required() -> None:
    signal = workflow_pb2.GateNode(signal=workflow_pb2.SignalCondition(signal_id="s", type=BOOL))
    assert compile_errors(workflow("wf", [gate("n0", signal)])) == {("ValueRequired", "n0")}


def test_sleep_gate_has_no_inputs() -> None:
    sleep = workflow_pb2.GateNode(sleep=workflow_pb2.SleepCondition(duration=duration_pb2.Duration(seconds=5)))
    compile_ok(workflow("wf", [gate("n0", sleep)]))
    assert compile_errors(single_node(gate("n0", sleep, x=promise("", "x")))) == {("VariableNameNotFound", "n0")}


def test_gate_without_condition_is_no_condition_found() -> None:
    assert compile_errors(workflow("wf", [gate("n0", workflow_pb2.GateNode())])) == {("NoConditionFound", "n0")}


# ---- array nodes -----------------------------------------------------------------------------------

MAPPED = task("mapped-arraynode", {"x": list_of(INT)}, {"o0": list_of(INT)})
ELEMENT = task("element", {"x": INT, "k": STR}, {"o0": INT})
TAKES_INTS = task("takes_ints", {"xs": list_of(INT)})
ARRAY_TASKS = [*TASKS, MAPPED, ELEMENT, TAKES_INTS]


def array(
    node_id: str,
    sub_task: str,
    original: bool | None = None,
    bound: tuple[str, ...] = (),
    **inputs: literals_pb2.BindingData,
) -> workflow_pb2.Node:
    sub = task_node(sub_task, sub_task)
    node = workflow_pb2.Node(
        id=node_id,
        array_node=workflow_pb2.ArrayNode(node=sub, parallelism=2, min_success_ratio=1.0, bound_inputs=bound),
    )
    if original is not None:
        node.array_node.is_original_sub_node_interface.CopyFrom(wrappers_pb2.BoolValue(value=original))
    for var, data in inputs.items():
        node.inputs.add(var=var).binding.CopyFrom(data)
        sub.inputs.add(var=var).binding.CopyFrom(data)
    node.array_node.node.CopyFrom(sub)
    return node


def test_array_node_uses_the_list_typed_interface_of_its_task() -> None:
    wf = workflow(
        "wf",
        [
            array("n0", "mapped-arraynode", original=False, x=promise("", "xs")),
            task_node("n1", "takes_ints", xs=promise("n0", "o0")),
        ],
        inputs={"xs": list_of(INT)},
    )
    closure = compile_ok(wf, tasks=ARRAY_TASKS)
    assert [t.template.id.name for t in closure.tasks] == ["mapped-arraynode", "takes_ints"]


def test_array_node_inputs_are_type_checked() -> None:
    wf = single_node(array("n0", "mapped-arraynode", x=promise("", "x")))
    assert compile_errors(wf, tasks=ARRAY_TASKS) == {("MismatchingTypes", "n0")}


def test_original_sub_node_interface_is_listified_except_bound_inputs() -> None:
    wf = workflow(
        "wf",
        [
            array("n0", "element", original=True, bound=("k",), x=promise("", "xs"), k=scalar(string("k"))),
            task_node("n1", "takes_ints", xs=promise("n0", "o0")),
        ],
        inputs={"xs": list_of(INT)},
    )
    compile_ok(wf, tasks=ARRAY_TASKS)


def test_array_node_without_sub_node_is_value_required() -> None:
    node = workflow_pb2.Node(id="n0", array_node=workflow_pb2.ArrayNode())
    assert compile_errors(workflow("wf", [node])) == {("ValueRequired", "n0")}


def test_array_sub_node_with_unknown_task_is_task_reference_not_found() -> None:
    wf = single_node(array("n0", "missing", x=promise("", "x")))
    assert compile_errors(wf, tasks=ARRAY_TASKS) == {("TaskReferenceNotFound", "missing")}


def test_array_sub_node_keeps_its_id_and_stays_nested() -> None:
    wf = workflow("wf", [array("n0", "mapped-arraynode", x=promise("", "xs"))], inputs={"xs": list_of(INT)})
    template = compile_ok(wf, tasks=ARRAY_TASKS).primary.template
    assert [n.id for n in template.nodes] == ["start-node", "end-node", "n0"]
    assert template.nodes[2].array_node.node.id == "mapped-arraynode"
