"""Literals and dynamic job specs written by real flytekit task runs, checked with the compiler's tools."""

from __future__ import annotations

from flyteidl_py.core import dynamic_job_pb2, identifier_pb2, literals_pb2, workflow_pb2
from propeller.compiler import compile_task, compile_workflow, literal_type_of, validate_literal
from tests.support.paths import fixtures_dir
from tests.unit.propeller.compiler.builders import STRUCT
from tests.unit.propeller.compiler.packages import load

PACKAGE = "examples-package.tgz"


def runtime_literals(name: str) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap.FromString((fixtures_dir() / "runtime" / name).read_bytes())


def test_dataclass_output_written_as_msgpack_infers_struct() -> None:
    [literal] = runtime_literals("make_point.outputs.pb").literals.values()
    assert literal_type_of(literal) == STRUCT


def test_dataclass_output_written_as_msgpack_fits_the_declared_dataclass_type() -> None:
    output_type = load(PACKAGE).tasks["examples.basics.make_point"].template.interface.outputs.variables["o0"].type
    validate_literal(runtime_literals("make_point.outputs.pb").literals["o0"], output_type, name="o0")


def test_scalar_task_inputs_fit_the_task_interface() -> None:
    inputs = load(PACKAGE).tasks["examples.basics.scalars"].template.interface.inputs.variables
    for name, literal in runtime_literals("scalars.inputs.pb").literals.items():
        validate_literal(literal, inputs[name].type, name=name)


def test_array_node_inputs_fit_the_list_typed_map_task_interface() -> None:
    template = load(PACKAGE).tasks["examples.advanced.map_square_43e2299725b86f6735550fdcb2663de8-arraynode"].template
    for name, literal in runtime_literals("map_square.inputs.pb").literals.items():
        validate_literal(literal, template.interface.inputs.variables[name].type, name=name)


def test_dynamic_job_spec_compiles_as_a_workflow_with_the_parent_task_outputs() -> None:
    spec = dynamic_job_pb2.DynamicJobSpec.FromString(
        (fixtures_dir() / "runtime" / "dyn_sum_squares.futures.pb").read_bytes()
    )
    parent = load(PACKAGE).tasks["examples.advanced.dyn_sum_squares"].template
    template = workflow_pb2.WorkflowTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.WORKFLOW,
            project="flytesnacks",
            domain="development",
            name="dynamic_n0",
            version="abcdefghij",
        ),
        nodes=spec.nodes,
        outputs=spec.outputs,
    )
    template.interface.outputs.CopyFrom(parent.interface.outputs)
    tasks = [compile_task(task) for task in spec.tasks]
    closure = compile_workflow(template, spec.subworkflows, tasks, [])
    assert {t.template.id.name for t in closure.tasks} == {
        "examples.advanced.square",
        "examples.advanced.add",
    }
    assert closure.primary.template.nodes[0].id == "start-node"
