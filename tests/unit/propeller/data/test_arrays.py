"""Array nodes (§3.11.8): sizing from collection inputs, bound inputs, min successes, gathered outputs."""

from __future__ import annotations

import pytest

from flyteidl_py.core import literals_pb2, workflow_pb2
from propeller.data import ArrayUserError, array_size, element_inputs, gather_outputs, min_successes, narrowed_inputs
from tests.unit.propeller.compiler.builders import INT, list_of
from tests.unit.propeller.data.support import int_literal, list_literal, outputs, runtime_literals, str_literal

MAP_SQUARE_INPUTS = runtime_literals("map_square.inputs.pb")  # x = [1, 2, 3]
NONE_LITERAL = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))


def invalid_length(inputs: literals_pb2.LiteralMap, bound: tuple[str, ...] = ()) -> str:
    with pytest.raises(ArrayUserError) as raised:
        array_size(inputs, bound)
    assert raised.value.code == "InvalidArrayLength"
    return raised.value.message


def test_size_is_the_length_of_the_collection_input() -> None:
    assert array_size(MAP_SQUARE_INPUTS, ()) == 3


def test_collection_inputs_of_equal_length_agree_on_the_size() -> None:
    inputs = outputs(a=list_literal(int_literal(1), int_literal(2)), b=list_literal(str_literal("x"), str_literal("y")))

    assert array_size(inputs, ()) == 2


def test_empty_collection_input_gives_an_empty_array() -> None:
    assert array_size(outputs(x=list_literal()), ()) == 0


def test_scalar_inputs_do_not_count_towards_the_size() -> None:
    assert array_size(outputs(x=list_literal(int_literal(1)), factor=int_literal(3)), ()) == 1


def test_collection_inputs_of_different_lengths_are_refused() -> None:
    inputs = outputs(a=list_literal(int_literal(1), int_literal(2)), b=list_literal(int_literal(1)))

    assert invalid_length(inputs) == "input arrays have different lengths: expecting '2' found '1'"


def test_bound_collection_input_does_not_count_towards_the_size() -> None:
    inputs = outputs(x=list_literal(int_literal(1), int_literal(2)), table=list_literal(int_literal(9)))

    assert array_size(inputs, ("table",)) == 2


def test_all_inputs_bound_runs_once() -> None:
    assert array_size(outputs(table=list_literal(int_literal(9)), k=int_literal(1)), ("table", "k")) == 1


def test_no_collection_input_is_refused() -> None:
    assert invalid_length(outputs(k=int_literal(1))) == "no input array provided"


def test_no_inputs_at_all_is_refused() -> None:
    assert invalid_length(outputs()) == "no input array provided"


def test_offloaded_collection_input_must_be_loaded_first() -> None:
    offloaded = literals_pb2.Literal(
        offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(uri="s3://b/x", inferred_type=list_of(INT))
    )

    with pytest.raises(ValueError, match="offloaded"):
        array_size(outputs(x=offloaded), ())


@pytest.mark.parametrize("index", [0, 1, 2])
def test_element_inputs_take_the_element_at_the_index(index: int) -> None:
    assert element_inputs(MAP_SQUARE_INPUTS, (), index) == outputs(x=int_literal(index + 1))


def test_element_inputs_pass_bound_inputs_verbatim() -> None:
    table = list_literal(int_literal(9), int_literal(8))
    inputs = outputs(x=list_literal(int_literal(1), int_literal(2)), table=table)

    assert element_inputs(inputs, ("table",), 1) == outputs(x=int_literal(2), table=table)


def test_element_inputs_pass_scalar_inputs_verbatim() -> None:
    inputs = outputs(x=list_literal(int_literal(1)), factor=int_literal(3))

    assert element_inputs(inputs, (), 0) == outputs(x=int_literal(1), factor=int_literal(3))


def test_element_index_beyond_the_array_is_refused() -> None:
    with pytest.raises(IndexError):
        element_inputs(MAP_SQUARE_INPUTS, (), 3)


def test_narrowed_inputs_hold_only_the_element_of_each_split_collection() -> None:
    table = list_literal(int_literal(9), int_literal(8))
    inputs = outputs(x=list_literal(int_literal(1), int_literal(2)), table=table, factor=int_literal(3))

    narrowed = narrowed_inputs(inputs, ("table",), 1)

    assert narrowed == outputs(x=list_literal(int_literal(2)), table=table, factor=int_literal(3))


def test_narrowed_inputs_pick_what_element_inputs_pick_at_position_zero() -> None:
    for index in range(3):
        narrowed = narrowed_inputs(MAP_SQUARE_INPUTS, (), index)
        assert narrowed is not None
        assert element_inputs(narrowed, (), 0) == element_inputs(MAP_SQUARE_INPUTS, (), index)


def test_inputs_with_an_offloaded_input_are_not_narrowed() -> None:
    offloaded = literals_pb2.Literal(
        offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(uri="s3://bucket/x.pb", inferred_type=list_of(INT))
    )

    assert narrowed_inputs(outputs(x=offloaded), (), 0) is None


def test_min_successes_defaults_to_every_sub_node() -> None:
    assert min_successes(workflow_pb2.ArrayNode(), 7) == 7


def test_min_successes_is_taken_as_set() -> None:
    assert min_successes(workflow_pb2.ArrayNode(min_successes=2), 7) == 2


def test_min_success_ratio_rounds_up() -> None:
    assert min_successes(workflow_pb2.ArrayNode(min_success_ratio=0.5), 7) == 4


def test_min_success_ratio_of_one_requires_every_sub_node() -> None:
    assert min_successes(workflow_pb2.ArrayNode(min_success_ratio=1.0), 3) == 3


def test_min_success_ratio_is_applied_to_the_float32_on_the_wire() -> None:
    # 0.7 as a float32 is 0.69999998..., so 10 sub-nodes need ceil(6.9999998) = 7, not more.
    assert min_successes(workflow_pb2.ArrayNode(min_success_ratio=0.7), 10) == 7


def test_gathered_outputs_collect_each_variable_in_index_order() -> None:
    results = [outputs(o0=int_literal(1), o1=str_literal("a")), outputs(o0=int_literal(4), o1=str_literal("b"))]

    gathered = gather_outputs(["o0", "o1"], results)

    assert gathered == outputs(
        o0=list_literal(int_literal(1), int_literal(4)), o1=list_literal(str_literal("a"), str_literal("b"))
    )


def test_sub_node_that_did_not_succeed_contributes_none() -> None:
    index1 = runtime_literals("map_square_index1.outputs.pb")  # the real sub-node output: o0 = 4

    gathered = gather_outputs(["o0"], [None, index1, None])

    assert gathered == outputs(o0=list_literal(NONE_LITERAL, int_literal(4), NONE_LITERAL))


def test_gathering_no_sub_nodes_gives_empty_collections() -> None:
    gathered = gather_outputs(["o0"], [])

    assert gathered.literals["o0"].WhichOneof("value") == "collection"
    assert len(gathered.literals["o0"].collection.literals) == 0


def test_gathered_outputs_ignore_variables_not_asked_for() -> None:
    assert gather_outputs(["o0"], [outputs(o0=int_literal(1), extra=int_literal(2))]) == outputs(
        o0=list_literal(int_literal(1))
    )


def test_succeeded_sub_node_missing_an_output_is_refused() -> None:
    with pytest.raises(ValueError, match="o1"):
        gather_outputs(["o0", "o1"], [outputs(o0=int_literal(1))])
