"""Helpers for the data-function tests: an in-memory outputs reader and the real flytekit runtime files."""

from __future__ import annotations

from collections import Counter

from flyteidl_py.core import literals_pb2
from tests.support.paths import fixtures_dir


def runtime_literals(name: str) -> literals_pb2.LiteralMap:
    """A LiteralMap written by a real flytekit 1.16.31 task run (`runtime/<name>`)."""
    return literals_pb2.LiteralMap.FromString((fixtures_dir() / "runtime" / name).read_bytes())


def int_literal(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def str_literal(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


def float_literal(value: float) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(float_value=value)))


def list_literal(*elements: literals_pb2.Literal) -> literals_pb2.Literal:
    return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=elements))


def map_literal(**values: literals_pb2.Literal) -> literals_pb2.Literal:
    return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=values))


def outputs(**values: literals_pb2.Literal) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(literals=values)


class OutputStore:
    """Node outputs kept in memory, counting how often each node's outputs are read.

    It stands in for the engine's storage reader, which is the caller's concern, not this package's.
    """

    def __init__(self, **by_node: literals_pb2.LiteralMap) -> None:
        self.by_node = {node_id.replace("_", "-"): value for node_id, value in by_node.items()}
        self.reads: Counter[str] = Counter()

    async def __call__(self, node_id: str) -> literals_pb2.LiteralMap:
        self.reads[node_id] += 1
        if node_id not in self.by_node:
            raise FileNotFoundError(f"no outputs.pb for {node_id}")
        return self.by_node[node_id]
