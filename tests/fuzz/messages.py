"""Hypothesis strategies for protobuf requests: plausible messages with hostile values planted in them.

A request made only of random values is refused at its first check, so it tests little. These
requests start plausible — identifiers name the project, domain and entities the plane really has,
enums take their defined values — and then one to three fields, anywhere in the message tree, get a
hostile value: NUL bytes, 10 KB strings, path segments, integers at the edges of their width, NaN
and infinities, undefined enum numbers, timestamps and durations beyond any clock, many repeated
elements. Every choice is drawn from hypothesis, so a failure shrinks to a small request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    "\x00",
    "a\x00b",
    "x" * 10_000,
    "é" * 300,
    "..",
    "../../../../etc/passwd",
    "a/b",
    "\r\nX-Injected: 1",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%s%n%x",
    " ",
    "\u202e\U0001f600",
    "eq(phase,SUCCEEDED)" * 500,
    "9" * 5000,
)
HOSTILE_INT32 = (0, -1, 1, 2**31 - 1, -(2**31))
HOSTILE_INT64 = (*HOSTILE_INT32, 2**63 - 1, -(2**63), 2**53 + 1, 10**15)
HOSTILE_UINT32 = (0, 1, 2**32 - 1, 2**31)
HOSTILE_UINT64 = (*HOSTILE_UINT32, 2**64 - 1, 2**63)
HOSTILE_FLOATS = (0.0, -0.0, math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324)
HOSTILE_BYTES = (b"", b"\x00", b"\xff" * 64, b"\x0a\x05hello", b"\x08\x96\x01" * 50)

_INT32_TYPES = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32}
_INT64_TYPES = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64}
_UINT32_TYPES = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32}
_UINT64_TYPES = {FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64}
_FLOAT_TYPES = {FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE}

# Messages not worth descending into (recursive literal trees are reached through their leaves anyway).
MAX_DEPTH = 5


@dataclass
class World:
    """What exists in the plane: the names plausible requests use."""

    project: str
    domain: str
    names: Sequence[str]
    executions: Sequence[str]
    nodes: Sequence[str]
    versions: Sequence[str] = ("v1",)
    extra: dict[str, Sequence[str]] = field(default_factory=dict)

    def strings_for(self, name: str) -> Sequence[str]:
        if name in self.extra:
            return self.extra[name]
        if name in ("project", "project_id"):
            return (self.project,)
        if name in ("domain",):
            return (self.domain,)
        if name == "name":
            return (*self.names, *self.executions)
        if name == "version":
            return self.versions
        if name in ("node_id", "spec_node_id", "retry_group"):
            return self.nodes
        if name == "org":
            return ("",)
        if name == "token":
            return ("", "1")
        if name == "filters":
            return ("", "eq(phase,SUCCEEDED)", "eq(name,x)+gte(version,v1)")
        return ("a", "x1")


Draw = Callable[[st.SearchStrategy[object]], object]


def _leaf_value(draw: Draw, fd: FieldDescriptor, world: World, hostile: bool) -> object:
    t = fd.type
    if t == FieldDescriptor.TYPE_STRING:
        return draw(st.sampled_from(HOSTILE_STRINGS if hostile else tuple(world.strings_for(fd.name))))
    if t == FieldDescriptor.TYPE_BYTES:
        return draw(st.sampled_from(HOSTILE_BYTES) | st.binary(max_size=32)) if hostile else b""
    if t == FieldDescriptor.TYPE_BOOL:
        return draw(st.booleans())
    if t == FieldDescriptor.TYPE_ENUM:
        return _enum_value(draw, fd.enum_type, hostile)
    if t in _INT32_TYPES:
        return draw(st.sampled_from(HOSTILE_INT32)) if hostile else draw(st.integers(0, 3))
    if t in _INT64_TYPES:
        return draw(st.sampled_from(HOSTILE_INT64)) if hostile else draw(st.integers(0, 3))
    if t in _UINT32_TYPES:
        return draw(st.sampled_from(HOSTILE_UINT32)) if hostile else draw(st.integers(0, 3))
    if t in _UINT64_TYPES:
        return draw(st.sampled_from(HOSTILE_UINT64)) if hostile else draw(st.integers(0, 3))
    if t in _FLOAT_TYPES:
        return draw(st.sampled_from(HOSTILE_FLOATS)) if hostile else draw(st.sampled_from((0.0, 0.5, 1.0)))
    raise TypeError(f"no values for field type {t}")


def _enum_value(draw: Draw, enum: EnumDescriptor, hostile: bool) -> int:
    defined = [v.number for v in enum.values]
    if hostile:
        return int(draw(st.sampled_from((*defined[-1:], 999, -1, 2**31 - 1))))  # type: ignore[arg-type]
    return int(draw(st.sampled_from(defined)))  # type: ignore[arg-type]


def _is_message(fd: FieldDescriptor) -> bool:
    return fd.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)


def _is_map(fd: FieldDescriptor) -> bool:
    return _is_message(fd) and fd.message_type.GetOptions().map_entry


def _is_repeated(fd: FieldDescriptor) -> bool:
    return bool(fd.is_repeated)


def fill(draw: Draw, message: Message, world: World, depth: int = 0) -> None:
    """Sets a plausible subset of `message`'s fields (one member of each oneof at most)."""
    descriptor: Descriptor = message.DESCRIPTOR
    chosen_oneofs: dict[str, str] = {}
    for oneof in descriptor.oneofs:
        if draw(st.booleans()):
            chosen_oneofs[oneof.name] = str(draw(st.sampled_from([f.name for f in oneof.fields])))
    for fd in descriptor.fields:
        if fd.containing_oneof is not None and chosen_oneofs.get(fd.containing_oneof.name) != fd.name:
            continue
        if fd.containing_oneof is None and not draw(st.integers(0, 3)):  # most fields set, some left out
            continue
        if _is_message(fd):
            if depth >= MAX_DEPTH:
                continue
            if _is_map(fd):
                for _ in range(int(draw(st.integers(0, 2)))):  # type: ignore[call-overload]
                    key = _leaf_value(draw, fd.message_type.fields_by_name["key"], world, hostile=False)
                    value_fd = fd.message_type.fields_by_name["value"]
                    target = getattr(message, fd.name)
                    if _is_message(value_fd):
                        fill(draw, target[key], world, depth + 1)
                    else:
                        target[key] = _leaf_value(draw, value_fd, world, hostile=False)
            elif _is_repeated(fd):
                for _ in range(int(draw(st.integers(0, 2)))):  # type: ignore[call-overload]
                    fill(draw, getattr(message, fd.name).add(), world, depth + 1)
            else:
                child = getattr(message, fd.name)
                fill(draw, child, world, depth + 1)
                child.SetInParent()
        elif _is_repeated(fd):
            for _ in range(int(draw(st.integers(0, 2)))):  # type: ignore[call-overload]
                getattr(message, fd.name).append(_leaf_value(draw, fd, world, hostile=False))
        else:
            setattr(message, fd.name, _leaf_value(draw, fd, world, hostile=False))


def _paths(
    descriptor: Descriptor, prefix: tuple[FieldDescriptor, ...], depth: int
) -> list[tuple[FieldDescriptor, ...]]:
    """Every field path below `descriptor` (maps and repeated messages stop the descent)."""
    found: list[tuple[FieldDescriptor, ...]] = []
    for fd in descriptor.fields:
        path = (*prefix, fd)
        found.append(path)
        if _is_message(fd) and not _is_repeated(fd) and depth < MAX_DEPTH:
            found.extend(_paths(fd.message_type, path, depth + 1))
    return found


_PATHS: dict[str, list[tuple[FieldDescriptor, ...]]] = {}


def field_paths(descriptor: Descriptor) -> list[tuple[FieldDescriptor, ...]]:
    if descriptor.full_name not in _PATHS:
        _PATHS[descriptor.full_name] = _paths(descriptor, (), 0)
    return _PATHS[descriptor.full_name]


def plant(draw: Draw, message: Message, path: tuple[FieldDescriptor, ...], world: World) -> str:
    """Puts a hostile value at `path` (creating the messages on the way); returns the path's name."""
    target = message
    for fd in path[:-1]:
        target = getattr(target, fd.name)
    fd = path[-1]
    name = ".".join(f.name for f in path)
    if _is_message(fd):
        if _is_map(fd):
            container = getattr(target, fd.name)
            key_fd = fd.message_type.fields_by_name["key"]
            value_fd = fd.message_type.fields_by_name["value"]
            key = _leaf_value(draw, key_fd, world, hostile=True)
            if _is_message(value_fd):
                fill(draw, container[key], world, len(path))
            else:
                container[key] = _leaf_value(draw, value_fd, world, hostile=True)
        elif _is_repeated(fd):
            container = getattr(target, fd.name)
            for _ in range(int(draw(st.sampled_from((1, 50, 2000))))):  # type: ignore[call-overload]
                container.add()
        else:
            getattr(target, fd.name).SetInParent()
        return name
    if _is_repeated(fd):
        container = getattr(target, fd.name)
        count = int(draw(st.sampled_from((1, 3, 5000))))  # type: ignore[call-overload]
        value = _leaf_value(draw, fd, world, hostile=True)
        container.extend([value] * count)
        return name
    setattr(target, fd.name, _leaf_value(draw, fd, world, hostile=True))
    return name


@st.composite
def hostile_request(draw: Draw, request_class: type[Message], world: World) -> tuple[Message, list[str]]:
    """A plausible request of `request_class` with one to three hostile values planted in it."""
    message = request_class()
    fill(draw, message, world)
    planted: list[str] = []
    paths = field_paths(request_class.DESCRIPTOR)
    if paths:
        for _ in range(int(draw(st.integers(0, 3)))):  # type: ignore[call-overload]
            path = draw(st.sampled_from(paths))
            assert isinstance(path, tuple)
            planted.append(plant(draw, message, path, world))
    return message, planted
