"""Binding resolution (§3.4): every BindingData kind, promises, output reads and errors."""

from __future__ import annotations

import pytest

from flyteidl_py.core import execution_pb2, literals_pb2, types_pb2
from propeller.data import BindingError, parse_promise_var, resolve_bindings
from propeller.data.bindings import with_error_input
from tests.unit.propeller.compiler.builders import (
    INT,
    NONE,
    binding_map,
    bindings,
    collection,
    integer,
    promise,
    scalar,
    string,
    union,
)
from tests.unit.propeller.data.support import OutputStore, int_literal, list_literal, outputs, str_literal

EMPTY = OutputStore()


async def test_scalar_binding_is_copied() -> None:
    resolved = await resolve_bindings(bindings(x=scalar(integer(3))), EMPTY)

    assert resolved == outputs(x=int_literal(3))


async def test_collection_binding_resolves_each_element_in_order() -> None:
    resolved = await resolve_bindings(bindings(xs=collection(scalar(integer(1)), scalar(integer(2)))), EMPTY)

    assert resolved.literals["xs"] == list_literal(int_literal(1), int_literal(2))


async def test_empty_collection_binding_is_an_empty_collection() -> None:
    resolved = await resolve_bindings(bindings(xs=collection()), EMPTY)

    assert resolved.literals["xs"].WhichOneof("value") == "collection"
    assert len(resolved.literals["xs"].collection.literals) == 0


async def test_map_binding_resolves_each_value() -> None:
    resolved = await resolve_bindings(bindings(m=binding_map(a=scalar(string("x")), b=scalar(integer(2)))), EMPTY)

    assert dict(resolved.literals["m"].map.literals) == {"a": str_literal("x"), "b": int_literal(2)}


async def test_nested_containers_resolve_their_promises() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(7)))

    resolved = await resolve_bindings(bindings(x=collection(binding_map(k=promise("n0", "o0")))), store)

    assert resolved.literals["x"].collection.literals[0].map.literals["k"] == int_literal(7)


async def test_promise_reads_the_named_output_of_the_referenced_node() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(4), o1=str_literal("a")))

    resolved = await resolve_bindings(bindings(x=promise("n0", "o1")), store)

    assert resolved == outputs(x=str_literal("a"))


async def test_promise_with_empty_node_id_reads_the_start_node() -> None:
    store = OutputStore(start_node=outputs(n=int_literal(5)))

    resolved = await resolve_bindings(bindings(x=promise("", "n")), store)

    assert resolved == outputs(x=int_literal(5))
    assert set(store.reads) == {"start-node"}


async def test_outputs_of_a_node_are_read_once_per_call() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(1), o1=int_literal(2)), start_node=outputs(n=int_literal(3)))

    await resolve_bindings(
        bindings(
            a=promise("n0", "o0"),
            b=collection(promise("n0", "o1"), promise("n0", "o0")),
            c=promise("", "n"),
            d=promise("start-node", "n"),
        ),
        store,
    )

    assert store.reads == {"n0": 1, "start-node": 1}


async def test_outputs_are_read_again_by_a_new_call() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(1)))

    await resolve_bindings(bindings(a=promise("n0", "o0")), store)
    await resolve_bindings(bindings(a=promise("n0", "o0")), store)

    assert store.reads == {"n0": 2}


async def test_output_alias_reads_the_aliased_variable() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(9)))

    resolved = await resolve_bindings(bindings(x=promise("n0", "total")), store, output_aliases={"n0": {"total": "o0"}})

    assert resolved == outputs(x=int_literal(9))


async def test_indexed_var_selects_an_element_of_a_collection_output() -> None:
    store = OutputStore(n0=outputs(o0=list_literal(int_literal(10), int_literal(11))))

    resolved = await resolve_bindings(bindings(x=promise("n0", "[1].o0")), store)

    assert resolved == outputs(x=int_literal(11))


async def test_indexed_var_past_the_end_is_a_resolution_failure() -> None:
    store = OutputStore(n0=outputs(o0=list_literal(int_literal(10))))

    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=promise("n0", "[1].o0")), store)

    assert raised.value.code == "BindingResolutionFailure"


async def test_indexed_var_into_a_non_collection_output_is_a_bad_specification() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(10)))

    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=promise("n0", "[0].o0")), store)

    assert raised.value.code == "BadSpecification"


@pytest.mark.parametrize("var", ["[x].o0", "[1]o0", "[1].", "[-1].o0"])
def test_malformed_indexed_var_is_a_bad_specification(var: str) -> None:
    with pytest.raises(BindingError) as raised:
        parse_promise_var(var)

    assert raised.value.code == "BadSpecification"


def test_plain_var_has_no_index() -> None:
    assert parse_promise_var("o0") == (None, "o0")


def test_indexed_var_splits_into_index_and_name() -> None:
    assert parse_promise_var("[12].o0") == (12, "o0")


async def test_union_binding_wraps_the_value_with_the_stated_type() -> None:
    data = scalar(integer(3))
    data.union.targetType.CopyFrom(INT)

    resolved = await resolve_bindings(bindings(x=data), EMPTY)

    assert resolved.literals["x"].scalar.union == literals_pb2.Union(value=int_literal(3), type=INT)


async def test_union_binding_wraps_a_promised_value() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(3)))
    data = promise("n0", "o0")
    data.union.targetType.CopyFrom(union(INT, NONE))

    resolved = await resolve_bindings(bindings(x=data), store)

    assert resolved.literals["x"].scalar.union == literals_pb2.Union(value=int_literal(3), type=union(INT, NONE))


async def test_offloaded_binding_is_passed_on_as_an_offloaded_literal() -> None:
    metadata = literals_pb2.LiteralOffloadedMetadata(uri="s3://bucket/big.pb", size_bytes=10, inferred_type=INT)

    resolved = await resolve_bindings(
        [literals_pb2.Binding(var="x", binding=literals_pb2.BindingData(offloaded_metadata=metadata))], EMPTY
    )

    assert resolved.literals["x"] == literals_pb2.Literal(offloaded_metadata=metadata)


async def test_missing_output_variable_is_a_resolution_failure() -> None:
    store = OutputStore(n0=outputs(o0=int_literal(1)))

    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=promise("n0", "o9")), store)

    assert raised.value.code == "BindingResolutionFailure"


async def test_unreadable_outputs_are_a_resolution_failure() -> None:
    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=promise("n0", "o0")), OutputStore())

    assert raised.value.code == "BindingResolutionFailure"
    assert isinstance(raised.value.__cause__, FileNotFoundError)


async def test_binding_error_from_the_reader_keeps_its_code() -> None:
    async def refuse(node_id: str) -> literals_pb2.LiteralMap:
        raise BindingError("BadSpecification", f"no node {node_id}")

    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=promise("n0", "o0")), refuse)

    assert raised.value.code == "BadSpecification"


async def test_error_message_names_the_input_variable() -> None:
    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(my_input=promise("n0", "o0")), OutputStore())

    assert "[my_input]" in raised.value.message


async def test_binding_without_binding_data_is_a_bad_specification() -> None:
    with pytest.raises(BindingError) as raised:
        await resolve_bindings([literals_pb2.Binding(var="x")], EMPTY)

    assert raised.value.code == "BadSpecification"


async def test_binding_data_without_a_value_is_a_bad_specification() -> None:
    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=literals_pb2.BindingData()), EMPTY)

    assert raised.value.code == "BadSpecification"


async def test_variable_bound_twice_is_a_bad_specification() -> None:
    twice = [*bindings(x=scalar(integer(1))), *bindings(x=scalar(integer(2)))]

    with pytest.raises(BindingError) as raised:
        await resolve_bindings(twice, EMPTY)

    assert raised.value.code == "BadSpecification"


async def test_promise_with_empty_var_is_a_bad_specification() -> None:
    with pytest.raises(BindingError) as raised:
        await resolve_bindings(bindings(x=promise("n0", "")), OutputStore(n0=outputs()))

    assert raised.value.code == "BadSpecification"


def test_binding_error_renders_code_and_message() -> None:
    assert str(BindingError("BadSpecification", "oops")) == "[BadSpecification] oops"


def test_a_failure_nodes_err_input_becomes_the_workflows_error_as_a_flyte_error_union() -> None:
    inputs = outputs(x=int_literal(1), err=literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type={})))
    error = execution_pb2.ExecutionError(
        code="USER:ValueError", message="exploded", kind=execution_pb2.ExecutionError.USER
    )

    with_error_input(inputs, error, "fn0")

    union = inputs.literals["err"].scalar.union
    assert union.type == types_pb2.LiteralType(
        simple=types_pb2.ERROR, structure=types_pb2.TypeStructure(tag="FlyteError")
    )
    assert union.value.scalar.error == types_pb2.Error(message="exploded", failed_node_id="fn0")
    assert inputs.literals["x"] == int_literal(1)


def test_a_failure_node_without_an_err_input_gets_none() -> None:
    inputs = outputs(x=int_literal(1))
    with_error_input(inputs, execution_pb2.ExecutionError(message="exploded"), "fn0")

    assert inputs == outputs(x=int_literal(1))
