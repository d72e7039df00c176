"""The msgpack decoder the hashing relies on: every type family, and refusal of malformed input."""

from __future__ import annotations

import struct

import pytest

from propeller.catalog.msgpack import MsgpackError, MsgpackExt, MsgpackMap, unpack


def test_scalars_decode() -> None:
    assert unpack(b"\x05") == 5
    assert unpack(b"\xff") == -1
    assert unpack(b"\xc0") is None
    assert unpack(b"\xc3") is True
    assert unpack(b"\xcd\x01\x00") == 256
    assert unpack(b"\xd3" + struct.pack(">q", -(2**40))) == -(2**40)
    assert unpack(b"\xcb" + struct.pack(">d", 0.25)) == 0.25
    assert unpack(b"\xa3abc") == "abc"
    assert unpack(b"\xd9\x03xyz") == "xyz"
    assert unpack(b"\xc4\x02\x00\x01") == b"\x00\x01"


def test_containers_decode_in_order() -> None:
    assert unpack(b"\x92\x01\xa1a") == [1, "a"]
    assert unpack(b"\x82\xa1b\x02\xa1a\x01") == MsgpackMap((("b", 2), ("a", 1)))
    assert unpack(b"\xd4\x05\x07") == MsgpackExt(5, b"\x07")


@pytest.mark.parametrize(
    "raw", [b"", b"\xc1", b"\x92\x01", b"\x01\x02", b"\xa2a", b"\xa1\xff", b"\x91" * 300 + b"\x01"]
)
def test_malformed_input_is_refused(raw: bytes) -> None:
    with pytest.raises(MsgpackError):
        unpack(raw)
