"""Bindings (§1.7): node inputs and workflow outputs against the variables they feed."""

from __future__ import annotations

from flyteidl_py.core import literals_pb2, types_pb2, workflow_pb2
from tests.unit.propeller.compiler.builders import (
    INT,
    STR,
    STRUCT,
    TASKS,
    binding_map,
    collection,
    compile_errors,
    compile_ok,
    enum,
    integer,
    list_of,
    map_of,
    optional,
    promise,
    scalar,
    single_node,
    string,
    task,
    task_node,
    union,
    workflow,
)

TAKES_OPTIONAL = task("takes_optional", {"x": INT, "y": optional(INT)}, {"o0": INT})
TAKES_COLOR = task("takes_color", {"c": enum("red", "green")})
TAKES_LIST = task("takes_list", {"xs": list_of(INT)})
TAKES_MAP = task("takes_map", {"m": map_of(INT)})
TAKES_STRING = task("takes_string", {"s": STR})
TAKES_UNION = task("takes_union", {"u": union(list_of(INT), map_of(INT))})
TAKES_AMBIGUOUS = task("takes_ambiguous", {"u": union(list_of(INT), list_of(optional(INT)))})
MAKES_LIST = task("makes_list", {}, {"o0": list_of(INT)})
MAKES_MAP = task("makes_map", {}, {"o0": map_of(INT)})
MAKES_STRUCT = task("makes_struct", {}, {"o0": STRUCT})
POINT = types_pb2.LiteralType(
    simple=types_pb2.STRUCT, structure=types_pb2.TypeStructure(dataclass_type={"x": INT, "label": STR})
)
MAKES_POINT = task("makes_point", {}, {"o0": POINT})
ALL = [
    *TASKS,
    TAKES_OPTIONAL,
    TAKES_COLOR,
    TAKES_LIST,
    TAKES_MAP,
    TAKES_STRING,
    TAKES_UNION,
    TAKES_AMBIGUOUS,
    MAKES_LIST,
    MAKES_MAP,
    MAKES_STRUCT,
    MAKES_POINT,
]


def producer_and(consumer: workflow_pb2.Node, producer: str) -> workflow_pb2.WorkflowTemplate:
    return workflow("wf", [task_node("p", producer), consumer])


def test_binding_to_unknown_input_is_variable_name_not_found() -> None:
    node = task_node("n0", "double", x=promise("", "x"), y=promise("", "x"))
    assert compile_errors(single_node(node)) == {("VariableNameNotFound", "n0")}


def test_input_bound_twice_is_parameter_bound_more_than_once() -> None:
    node = task_node("n0", "double", x=promise("", "x"))
    node.inputs.append(literals_pb2.Binding(var="x", binding=promise("", "x")))
    assert compile_errors(single_node(node)) == {("ParameterBoundMoreThanOnce", "n0")}


def test_unbound_required_input_is_parameter_not_bound() -> None:
    assert compile_errors(single_node(task_node("n0", "add", a=promise("", "x")))) == {("ParameterNotBound", "n0")}


def test_unbound_optional_input_is_accepted() -> None:
    compile_ok(single_node(task_node("n0", "takes_optional", x=promise("", "x"))), tasks=ALL)


def test_binding_without_value_is_value_required() -> None:
    node = task_node("n0", "double")
    node.inputs.append(literals_pb2.Binding(var="x"))
    assert compile_errors(single_node(node)) == {("ValueRequired", "n0")}


def test_binding_with_no_kind_set_is_unrecognized_value() -> None:
    node = task_node("n0", "double", x=literals_pb2.BindingData())
    assert compile_errors(single_node(node)) == {("UnrecognizedValue", "n0")}


def test_matching_scalar_binding_is_accepted() -> None:
    compile_ok(single_node(task_node("n0", "double", x=scalar(integer(3)))))


def test_mismatching_scalar_binding_is_mismatching_types() -> None:
    assert compile_errors(single_node(task_node("n0", "double", x=scalar(string("3"))))) == {("MismatchingTypes", "n0")}


def test_enum_scalar_with_a_listed_value_is_accepted() -> None:
    compile_ok(single_node(task_node("n0", "takes_color", c=scalar(string("red")))), tasks=ALL)


def test_enum_scalar_with_an_unlisted_value_is_illegal_enum_value() -> None:
    node = task_node("n0", "takes_color", c=scalar(string("blue")))
    assert compile_errors(single_node(node), tasks=ALL) == {("IllegalEnumValue", "n0")}


def test_collection_binding_to_a_list_input_is_accepted() -> None:
    node = task_node("n0", "takes_list", xs=collection(scalar(integer(1)), promise("", "x")))
    compile_ok(single_node(node), tasks=ALL)


def test_empty_collection_binding_is_accepted() -> None:
    compile_ok(single_node(task_node("n0", "takes_list", xs=collection())), tasks=ALL)


def test_collection_binding_to_a_scalar_input_is_mismatching_bindings() -> None:
    node = task_node("n0", "double", x=collection(scalar(integer(1))))
    assert compile_errors(single_node(node)) == {("MismatchingBindings", "n0")}


def test_collection_element_of_wrong_type_is_mismatching_types() -> None:
    node = task_node("n0", "takes_list", xs=collection(scalar(string("a"))))
    assert compile_errors(single_node(node), tasks=ALL) == {("MismatchingTypes", "n0")}


def test_map_binding_to_a_map_input_is_accepted() -> None:
    compile_ok(single_node(task_node("n0", "takes_map", m=binding_map(a=promise("", "x")))), tasks=ALL)


def test_map_binding_to_a_list_input_is_mismatching_bindings() -> None:
    node = task_node("n0", "takes_list", xs=binding_map(a=scalar(integer(1))))
    assert compile_errors(single_node(node), tasks=ALL) == {("MismatchingBindings", "n0")}


def test_collection_binding_picks_the_one_matching_union_variant() -> None:
    compile_ok(single_node(task_node("n0", "takes_union", u=collection(scalar(integer(1))))), tasks=ALL)


def test_collection_binding_matching_two_union_variants_is_ambiguous() -> None:
    node = task_node("n0", "takes_ambiguous", u=collection(scalar(integer(1))))
    assert compile_errors(single_node(node), tasks=ALL) == {("AmbiguousBindingUnionValue", "n0")}


def test_collection_binding_matching_no_union_variant_is_incompatible() -> None:
    node = task_node("n0", "takes_union", u=collection(scalar(string("a"))))
    assert compile_errors(single_node(node), tasks=ALL) == {("IncompatibleBindingUnionValue", "n0")}


def test_promise_to_unknown_node_is_node_reference_not_found() -> None:
    assert compile_errors(single_node(task_node("n0", "double", x=promise("ghost", "o0")))) == {
        ("NodeReferenceNotFound", "n0")
    }


def test_promise_to_unknown_output_is_variable_name_not_found() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "double", x=promise("", "x")), task_node("n1", "double", x=promise("n0", "nope"))],
        inputs={"x": INT},
    )
    assert compile_errors(wf) == {("VariableNameNotFound", "n1")}


def test_promise_to_unknown_workflow_input_is_variable_name_not_found() -> None:
    assert compile_errors(single_node(task_node("n0", "double", x=promise("", "nope")))) == {
        ("VariableNameNotFound", "n0")
    }


def test_dotted_promise_var_is_a_syntax_error() -> None:
    assert compile_errors(single_node(task_node("n0", "double", x=promise("", "a.b")))) == {("SyntaxError", "n0")}


def test_promise_without_var_is_parameter_not_bound() -> None:
    assert compile_errors(single_node(task_node("n0", "double", x=promise("", "")))) == {("ParameterNotBound", "n0")}


def test_promise_of_the_wrong_type_is_mismatching_types() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "to_str", x=promise("", "x")), task_node("n1", "double", x=promise("n0", "o0"))],
        inputs={"x": INT},
    )
    assert compile_errors(wf) == {("MismatchingTypes", "n1")}


def test_indexed_promise_reads_an_element_of_a_list_output() -> None:
    compile_ok(producer_and(task_node("n0", "double", x=promise("p", "[0].o0")), "makes_list"), tasks=ALL)


def test_indexed_promise_of_a_non_list_output_is_mismatching_types() -> None:
    wf = producer_and(task_node("n0", "double", x=promise("p", "[0].o0")), "makes_struct")
    assert compile_errors(wf, tasks=ALL) == {("MismatchingTypes", "n0")}


def test_attribute_path_into_a_list_reads_its_element_type() -> None:
    compile_ok(producer_and(task_node("n0", "double", x=promise("p", "o0", 0)), "makes_list"), tasks=ALL)


def test_attribute_path_into_a_map_reads_its_value_type() -> None:
    compile_ok(producer_and(task_node("n0", "double", x=promise("p", "o0", "k")), "makes_map"), tasks=ALL)


def test_attribute_path_into_a_dataclass_reads_the_field_type() -> None:
    compile_ok(producer_and(task_node("n0", "takes_string", s=promise("p", "o0", "label")), "makes_point"), tasks=ALL)


def test_attribute_path_to_an_unknown_dataclass_field_is_field_not_found() -> None:
    wf = producer_and(task_node("n0", "takes_string", s=promise("p", "o0", "nope")), "makes_point")
    assert compile_errors(wf, tasks=ALL) == {("FieldNotFound", "n0")}


def test_attribute_path_into_a_plain_struct_keeps_the_struct_type() -> None:
    wf = producer_and(task_node("n0", "double", x=promise("p", "o0", "field")), "makes_struct")
    assert compile_errors(wf, tasks=ALL) == {("MismatchingTypes", "n0")}


def test_workflow_output_of_the_wrong_type_is_mismatching_types_at_end_node() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "to_str", x=promise("", "x"))],
        inputs={"x": INT},
        outputs={"o0": INT},
        output_bindings={"o0": promise("n0", "o0")},
    )
    assert compile_errors(wf) == {("MismatchingTypes", "end-node")}


def test_unbound_workflow_output_is_parameter_not_bound_at_end_node() -> None:
    wf = workflow("wf", [task_node("n0", "noop")], outputs={"o0": INT})
    assert compile_errors(wf) == {("ParameterNotBound", "end-node")}


def test_workflow_output_may_bind_a_workflow_input() -> None:
    wf = workflow(
        "wf",
        [task_node("n0", "noop")],
        inputs={"x": INT},
        outputs={"o0": INT},
        output_bindings={"o0": promise("", "x")},
    )
    assert compile_ok(wf).primary.template.outputs[0].binding.promise.node_id == "start-node"


def _aliased(*aliases: tuple[str, str]) -> workflow_pb2.Node:
    node = task_node("n0", "double", x=promise("", "x"))
    node.output_aliases.extend(workflow_pb2.Alias(var=var, alias=alias) for var, alias in aliases)
    return node


def test_consumers_read_an_aliased_output_by_its_alias() -> None:
    wf = workflow(
        "wf",
        [_aliased(("o0", "doubled")), task_node("n1", "double", x=promise("n0", "doubled"))],
        inputs={"x": INT},
    )
    compile_ok(wf)


def test_aliased_output_is_not_visible_under_its_original_name() -> None:
    wf = workflow(
        "wf",
        [_aliased(("o0", "doubled")), task_node("n1", "double", x=promise("n0", "o0"))],
        inputs={"x": INT},
    )
    assert compile_errors(wf) == {("VariableNameNotFound", "n1")}


def test_duplicate_alias_is_rejected() -> None:
    wf = workflow("wf", [_aliased(("o0", "same"), ("o0", "same"))], inputs={"x": INT})
    assert compile_errors(wf) == {("DuplicateAlias", "n0")}


def test_alias_of_an_unknown_output_is_parameter_not_bound() -> None:
    wf = workflow("wf", [_aliased(("nope", "alias"))], inputs={"x": INT})
    assert compile_errors(wf) == {("ParameterNotBound", "n0")}
