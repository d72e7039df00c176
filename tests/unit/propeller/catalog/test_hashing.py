"""Canonical literal hashing: objecthash over the proto3 JSON form, order-independent where order means nothing."""

from __future__ import annotations

from google.protobuf import struct_pb2

from flyteidl_py.core import literals_pb2
from propeller.catalog.hashing import literal_hash, literal_map_hash, object_hash
from tests.unit.propeller.catalog.builders import (
    collection,
    floating,
    generic,
    inputs,
    integer,
    mapping,
    msgpack,
    string,
)


def test_object_hash_matches_the_published_objecthash_vectors() -> None:
    vectors = {
        "acac86c0e609ca906f632b0e2dacccb2b77d22b0621f20ebece1a4835b93f6f0": [],
        "32ae896c413cfdc79eec68be9139c86ded8b279238467c216cf2bec4d5f1e4a2": ["foo", "bar"],
        "7ef5237c3027d6c58100afadf37796b3d351025cf28038280147d42fdc53b960": {"foo": "bar"},
        "f1a9389f27558538a064f3cc250f8686a0cebb85f1cab7f4d4dcc416ceda3c92": {"foo": ["bar", "baz"], "qux": ["norf"]},
        "157bf16c70bd4c9673ffb5030552df0ee2c40282042ccdf6167850edc9044ab7": [1, 2, 3],
        "783a423b094307bcb28d005bc2f026ff44204442ef3513585e7e73b66e3c2213": [
            "foo",
            {"bar": ["baz", None, 1.0, 1.5, 0.0001, 1000.0, 2.0, -23.1234, 2.0]},
        ],
    }
    for expected, value in vectors.items():
        assert object_hash(value).hex() == expected, value


def test_the_order_literal_map_entries_were_added_in_does_not_matter() -> None:
    forward = inputs({"a": integer(1), "b": string("x"), "c": floating(2.5)})
    backward = inputs({"c": floating(2.5), "b": string("x"), "a": integer(1)})
    assert literal_map_hash(forward) == literal_map_hash(backward)
    # The same map as it may arrive on the wire, its entries encoded in the other order.
    parts = [inputs({name: literal}).SerializeToString() for name, literal in forward.literals.items()]
    reparsed = literals_pb2.LiteralMap.FromString(b"".join(reversed(parts)))
    assert literal_map_hash(reparsed) == literal_map_hash(forward)


def test_nested_map_literals_hash_alike_whatever_their_entry_order() -> None:
    one = mapping({"x": integer(1), "y": integer(2)})
    other = literals_pb2.Literal()
    other.map.literals["y"].CopyFrom(integer(2))
    other.map.literals["x"].CopyFrom(integer(1))
    assert literal_hash(one) == literal_hash(other)


def test_struct_field_order_does_not_matter() -> None:
    assert literal_hash(generic({"a": 1, "b": {"c": [1, "two"], "d": None}})) == literal_hash(
        generic({"b": {"d": None, "c": [1, "two"]}, "a": 1})
    )


def test_struct_values_still_count() -> None:
    assert literal_hash(generic({"a": 1})) != literal_hash(generic({"a": 2}))


def test_struct_nan_is_hashed_rather_than_refused() -> None:
    struct = struct_pb2.Struct()
    struct.fields["x"].number_value = float("nan")
    literal = literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=struct))
    assert literal_hash(literal) == literal_hash(literal)


def test_msgpack_maps_hash_alike_whatever_their_key_order() -> None:
    # {"a": 1, "b": [1.5, "s"]} encoded with its keys in both orders.
    a_first = bytes([0x82, 0xA1, 0x61, 0x01, 0xA1, 0x62, 0x92, 0xCB]) + b"?\xf8\x00\x00\x00\x00\x00\x00" + b"\xa1s"
    b_first = bytes([0x82, 0xA1, 0x62, 0x92, 0xCB]) + b"?\xf8\x00\x00\x00\x00\x00\x00" + b"\xa1s" + b"\xa1a\x01"
    assert literal_hash(msgpack(a_first)) == literal_hash(msgpack(b_first))


def test_msgpack_values_still_count() -> None:
    assert literal_hash(msgpack(b"\x81\xa1a\x01")) != literal_hash(msgpack(b"\x81\xa1a\x02"))


def test_malformed_msgpack_is_hashed_as_its_bytes() -> None:
    assert literal_hash(msgpack(b"\xc1")) != literal_hash(msgpack(b"\xc1\xc1"))
    assert literal_hash(msgpack(b"\xc1")) == literal_hash(msgpack(b"\xc1"))


def test_a_literal_hash_field_stands_for_the_value() -> None:
    one = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://a/1")), hash="h1")
    moved = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/2")), hash="h1")
    rehashed = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://a/1")), hash="h2")
    assert literal_hash(one) == literal_hash(moved)
    assert literal_hash(one) != literal_hash(rehashed)


def test_hash_fields_count_inside_collections_and_maps() -> None:
    first = collection(literals_pb2.Literal(scalar=string("a").scalar, hash="same"))
    second = collection(literals_pb2.Literal(scalar=string("b").scalar, hash="same"))
    assert literal_hash(first) == literal_hash(second)
    assert literal_hash(mapping({"k": first})) == literal_hash(mapping({"k": second}))


def test_collection_order_matters() -> None:
    assert literal_hash(collection(integer(1), integer(2))) != literal_hash(collection(integer(2), integer(1)))


def test_ignored_inputs_leave_the_hash_unchanged() -> None:
    base = inputs({"a": integer(1), "seed": integer(7)})
    other_seed = inputs({"a": integer(1), "seed": integer(8)})
    assert literal_map_hash(base) != literal_map_hash(other_seed)
    assert literal_map_hash(base, ["seed"]) == literal_map_hash(other_seed, ["seed"])
    assert literal_map_hash(base, ["seed"]) == literal_map_hash(inputs({"a": integer(1)}))


def test_an_empty_map_has_one_hash() -> None:
    assert literal_map_hash(inputs({})) == literal_map_hash({}) == literal_map_hash(inputs({"x": integer(1)}), ["x"])


def test_hashes_are_unpadded_url_safe_base64_of_sha256() -> None:
    digest = literal_map_hash(inputs({"a": integer(1)}))
    assert len(digest) == 43
    assert set(digest) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
