"""Small builders for literals, types, interfaces and task templates used by the catalog tests."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from flyteidl_py.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2

PROJECT, DOMAIN = "flytesnacks", "development"


def scalar(**primitive: Any) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**primitive)))


def integer(value: int) -> literals_pb2.Literal:
    return scalar(integer=value)


def floating(value: float) -> literals_pb2.Literal:
    return scalar(float_value=value)


def string(value: str) -> literals_pb2.Literal:
    return scalar(string_value=value)


def collection(*items: literals_pb2.Literal) -> literals_pb2.Literal:
    return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))


def mapping(items: dict[str, literals_pb2.Literal]) -> literals_pb2.Literal:
    return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=items))


def generic(value: dict[str, Any]) -> literals_pb2.Literal:
    struct = struct_pb2.Struct()
    struct.update(value)
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=struct))


def msgpack(raw: bytes) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=raw, tag="msgpack")))


def inputs(items: dict[str, literals_pb2.Literal]) -> literals_pb2.LiteralMap:
    """A literal map whose entries are added in the given order."""
    literal_map = literals_pb2.LiteralMap()
    for name, literal in items.items():
        literal_map.literals[name].CopyFrom(literal)
    return literal_map


def simple(kind: types_pb2.SimpleType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=kind)


def interface(
    inputs: dict[str, types_pb2.LiteralType] | None = None, outputs: dict[str, types_pb2.LiteralType] | None = None
) -> interface_pb2.TypedInterface:
    def side(variables: dict[str, types_pb2.LiteralType] | None) -> interface_pb2.VariableMap:
        return interface_pb2.VariableMap(
            variables={
                name: interface_pb2.Variable(type=kind, description=name) for name, kind in (variables or {}).items()
            }
        )

    return interface_pb2.TypedInterface(inputs=side(inputs), outputs=side(outputs))


def task_id(name: str = "workflows.square", version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=name, version=version
    )


def task(
    typed_interface: interface_pb2.TypedInterface,
    *,
    cache_version: str = "1.0",
    ignore: tuple[str, ...] = (),
    version: str = "v1",
) -> tasks_pb2.TaskTemplate:
    return tasks_pb2.TaskTemplate(
        id=task_id(version=version),
        type="python-task",
        interface=typed_interface,
        metadata=tasks_pb2.TaskMetadata(
            discoverable=True, discovery_version=cache_version, cache_ignore_input_vars=ignore
        ),
    )


INTEGER = simple(types_pb2.INTEGER)
FLOAT = simple(types_pb2.FLOAT)
STRING = simple(types_pb2.STRING)
