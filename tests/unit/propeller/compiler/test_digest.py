"""Registration digests (§1.13): objecthash over protobuf JSON, stable and map-order independent."""

from __future__ import annotations

from flyteidl_py.core import literals_pb2
from propeller.compiler import digest
from propeller.compiler.digest import _hash
from tests.unit.propeller.compiler.builders import DOUBLE, INT, integer, string, task


def test_digest_is_32_bytes() -> None:
    assert len(digest(DOUBLE)) == 32


def test_identical_bodies_have_identical_digests() -> None:
    assert digest(task("t", {"x": INT})) == digest(task("t", {"x": INT}))


def test_different_bodies_have_different_digests() -> None:
    assert digest(task("t", {"x": INT})) != digest(task("t", {"y": INT}))


def test_map_insertion_order_does_not_matter() -> None:
    first = literals_pb2.LiteralMap()
    first.literals["a"].scalar.CopyFrom(integer(1))
    first.literals["b"].scalar.CopyFrom(string("s"))
    second = literals_pb2.LiteralMap()
    second.literals["b"].scalar.CopyFrom(string("s"))
    second.literals["a"].scalar.CopyFrom(integer(1))
    assert digest(first) == digest(second)


def test_fields_left_at_their_default_do_not_change_the_digest() -> None:
    explicit = task("t", {"x": INT})
    explicit.template.task_type_version = 0
    assert digest(explicit) == digest(task("t", {"x": INT}))


def test_objecthash_matches_the_published_common_json_vectors() -> None:
    assert _hash(["foo", "bar"]).hex() == "32ae896c413cfdc79eec68be9139c86ded8b279238467c216cf2bec4d5f1e4a2"
    assert _hash({"foo": "bar"}).hex() == "7ef5237c3027d6c58100afadf37796b3d351025cf28038280147d42fdc53b960"
    assert _hash([123]).hex() == "2e72db006266ed9cdaa353aa22b9213e8a3c69c838349437c06896b1b34cee36"
    assert (
        _hash(["foo", {"bar": ["baz", None, 1.0, 1.5, 0.0001, 1000.0, 2.0, -23.1234, 2.0]}]).hex()
        == "783a423b094307bcb28d005bc2f026ff44204442ef3513585e7e73b66e3c2213"
    )
