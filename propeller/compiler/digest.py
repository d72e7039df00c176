"""Registration digests: objecthash over the protobuf JSON form, independent of map order."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


def digest(message: Message) -> bytes:
    """The 32-byte registration digest of a message (Flyte's pbhash).

    The message is rendered as protobuf JSON (camelCase names, default values omitted) and hashed with
    Ben Laurie's objecthash in its common-JSON form: every number is a float, dicts hash order-independently.
    """
    return _hash(json_format.MessageToDict(message))


def tagged(tag: bytes, payload: bytes) -> bytes:
    """objecthash of one value: SHA-256 over its type tag and its bytes (also the catalog's hashes use it)."""
    return hashlib.sha256(tag + payload).digest()


def _hash(value: Any) -> bytes:
    if value is None:
        return tagged(b"n", b"")
    if isinstance(value, bool):
        return tagged(b"b", b"1" if value else b"0")
    if isinstance(value, int | float):
        return tagged(b"f", normalize_float(float(value)).encode())
    if isinstance(value, str):
        return tagged(b"u", value.encode("utf-8"))
    if isinstance(value, list):
        return tagged(b"l", b"".join(_hash(item) for item in value))
    if isinstance(value, dict):
        pairs = sorted(_hash(key) + _hash(item) for key, item in value.items())
        return tagged(b"d", b"".join(pairs))
    raise TypeError(f"cannot hash {type(value).__name__}")


def normalize_float(value: float) -> str:
    """objecthash's float rendering: sign, binary exponent, then the mantissa's bits ("+1:1" for 1.0).

    Also the catalog's literal hashes use it. A digest never meets an infinity or NaN here: protobuf
    JSON writes those as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "+0:"
    sign = "-" if value < 0 else "+"
    mantissa, exponent = abs(value), 0
    while mantissa > 1:
        mantissa /= 2
        exponent += 1
    while mantissa <= 0.5:
        mantissa *= 2
        exponent -= 1
    bits: list[str] = []
    while mantissa:
        if mantissa >= 1:
            bits.append("1")
            mantissa -= 1
        else:
            bits.append("0")
        mantissa *= 2
    return f"{sign}{exponent}:{''.join(bits)}"
