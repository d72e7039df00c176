"""Identifiers and storage paths the engine derives, in Flyte's shapes (semantics §3.13-3.14)."""

from __future__ import annotations

import base64
import hashlib
import struct

_B32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "abcdefghijklmnopqrstuvwxyz123456")
_FNV32_OFFSET, _FNV32_PRIME = 0x811C9DC5, 0x01000193
_FNV64_OFFSET, _FNV64_PRIME = 0xCBF29CE484222325, 0x100000001B3
_SHARD_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def fnv32a(data: bytes) -> int:
    h = _FNV32_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def fnv64a(data: bytes) -> int:
    h = _FNV64_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def fixed_length_id(max_length: int, parts: list[str], *, wide: bool = False) -> str:
    """Flyte's FixedLengthUniqueIDForParts: parts joined by "-", or "f" + base32 of their FNV hash."""
    joined = ""
    for part in parts:
        joined = part if not joined else f"{joined}-{part}"
    if len(joined) <= max_length:
        return joined
    digest = struct.pack(">Q", fnv64a(joined.encode())) if wide else struct.pack(">I", fnv32a(joined.encode()))
    encoded = "f" + base64.b32encode(digest).decode().rstrip("=").translate(_B32)
    if len(encoded) > max_length:
        raise ValueError(f"cannot make an id of at most {max_length} characters")
    return encoded


def unique_node_id(parent_unique_id: str, parent_attempt: int, node_id: str) -> str:
    """A node's id in events and storage: plain at top level, hierarchical when nested."""
    if not parent_unique_id:
        return node_id
    return fixed_length_id(20, [parent_unique_id, str(parent_attempt), node_id])


def child_execution_name(parent_name: str, unique_id: str, attempt: int) -> str:
    return fixed_length_id(20, [parent_name, unique_id, str(attempt)], wide=True)


def raw_output_shard(unique_id: str) -> str:
    index = fnv32a(unique_id.encode()) % (len(_SHARD_ALPHABET) ** 2)
    return _SHARD_ALPHABET[index // len(_SHARD_ALPHABET)] + _SHARD_ALPHABET[index % len(_SHARD_ALPHABET)]


def stable_hash(data: bytes, length: int = 10) -> str:
    return hashlib.sha256(data).hexdigest()[:length]
