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


def _tagged(tag: bytes, payload: bytes) -> bytes:
    return hashlib.sha256(tag + payload).digest()


def _hash(value: Any) -> bytes:
    if value is None:
        return _tagged(b"n", b"")
    if isinstance(value, bool):
        return _tagged(b"b", b"1" if value else b"0")
    if isinstance(value, int | float):
        return _tagged(b"f", _normalize_float(float(value)).encode())
    if isinstance(value, str):
        return _tagged(b"u", value.encode("utf-8"))
    if isinstance(value, list):
        return _tagged(b"l", b"".join(_hash(item) for item in value))
    if isinstance(value, dict):
        pairs = sorted(_hash(key) + _hash(item) for key, item in value.items())
        return _tagged(b"d", b"".join(pairs))
    raise TypeError(f"cannot hash {type(value).__name__}")


def _normalize_float(number: float) -> str:
    """objecthash's float form: sign, binary exponent, then the mantissa bits ("+1:1" for 1.0)."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "+0:"
    sign = "+"
    if number < 0:
        sign = "-"
        number = -number
    exponent = 0
    while number > 1:
        number /= 2
        exponent += 1
    while number <= 0.5:
        number *= 2
        exponent -= 1
    bits = []
    while number != 0:
        if number >= 1:
            bits.append("1")
            number -= 1
        else:
            bits.append("0")
        number *= 2
    return f"{sign}{exponent}:{''.join(bits)}"
