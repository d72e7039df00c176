"""A small, strict MessagePack decoder, enough to hash msgpack-encoded literals canonically.

flytekit (>= 1.14) stores dataclasses, Pydantic models and dicts as `Binary{tag: "msgpack"}`.
Their bytes follow the producer's key order, so equal values can arrive as different bytes; the
cache key hashes the decoded value instead (see `propeller.catalog.hashing`). Maps decode to
`MsgpackMap` (ordered pairs, any key type) and extension types to `MsgpackExt`; anything malformed
raises MsgpackError, and the caller falls back to hashing the raw bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_DEPTH = 256


class MsgpackError(ValueError):
    """The bytes are not one complete, well-formed MessagePack value."""


@dataclass(frozen=True)
class MsgpackMap:
    items: tuple[tuple[object, object], ...]


@dataclass(frozen=True)
class MsgpackExt:
    code: int
    data: bytes


def unpack(data: bytes) -> object:
    """The single value `data` encodes; MsgpackError if it is malformed or followed by extra bytes."""
    reader = _Reader(bytes(data))
    value = reader.value(0)
    if reader.pos != len(reader.data):
        raise MsgpackError(f"{len(reader.data) - reader.pos} bytes after the value")
    return value


_FIXED_INTS = {
    0xCC: ">B",
    0xCD: ">H",
    0xCE: ">I",
    0xCF: ">Q",
    0xD0: ">b",
    0xD1: ">h",
    0xD2: ">i",
    0xD3: ">q",
    0xCA: ">f",
    0xCB: ">d",
}
_LENGTHS = {1: ">B", 2: ">H", 4: ">I"}
_FIXEXT_SIZES = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise MsgpackError("truncated value")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def number(self, fmt: str) -> int | float:
        value: int | float = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def length(self, size: int) -> int:
        return int(self.number(_LENGTHS[size]))

    def value(self, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise MsgpackError("nested too deeply")
        head = self.take(1)[0]
        if head <= 0x7F:
            return head
        if head >= 0xE0:
            return head - 0x100
        if 0x80 <= head <= 0x8F:
            return self.map(head & 0x0F, depth)
        if 0x90 <= head <= 0x9F:
            return self.array(head & 0x0F, depth)
        if 0xA0 <= head <= 0xBF:
            return self.text(head & 0x1F)
        if head == 0xC0:
            return None
        if head in (0xC2, 0xC3):
            return head == 0xC3
        if head in _FIXED_INTS:
            return self.number(_FIXED_INTS[head])
        if 0xC4 <= head <= 0xC6:
            return self.take(self.length(1 << (head - 0xC4)))
        if 0xC7 <= head <= 0xC9:
            size = self.length(1 << (head - 0xC7))
            return self.ext(size)
        if head in _FIXEXT_SIZES:
            return self.ext(_FIXEXT_SIZES[head])
        if 0xD9 <= head <= 0xDB:
            return self.text(self.length(1 << (head - 0xD9)))
        if head in (0xDC, 0xDD):
            return self.array(self.length(2 if head == 0xDC else 4), depth)
        if head in (0xDE, 0xDF):
            return self.map(self.length(2 if head == 0xDE else 4), depth)
        raise MsgpackError(f"unused type byte 0x{head:02x}")

    def text(self, size: int) -> str:
        try:
            return self.take(size).decode()
        except UnicodeDecodeError as exc:
            raise MsgpackError("string is not UTF-8") from exc

    def ext(self, size: int) -> MsgpackExt:
        code = int(self.number(">b"))
        return MsgpackExt(code, self.take(size))

    def array(self, count: int, depth: int) -> list[object]:
        return [self.value(depth + 1) for _ in range(count)]

    def map(self, count: int, depth: int) -> MsgpackMap:
        return MsgpackMap(tuple((self.value(depth + 1), self.value(depth + 1)) for _ in range(count)))
