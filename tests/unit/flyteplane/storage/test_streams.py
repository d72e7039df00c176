"""The chunk-stream helpers: re-chunking, digest checks and the async-to-blocking reader bridge."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator

import pytest

from flyteplane.errors import InvalidArgument, ResourceExhausted
from flyteplane.storage.streams import AsyncIteratorReader, md5_checked, rechunk, size_limited


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_rechunk_yields_blocks_of_exactly_the_size_asked() -> None:
    blocks = [block async for block in rechunk(_chunks(b"ab", b"", b"cdefg", b"h", b"ijk"), 3)]
    assert blocks == [b"abc", b"def", b"ghi", b"jk"]


async def test_rechunk_of_nothing_yields_nothing() -> None:
    assert [block async for block in rechunk(_chunks(), 3)] == []


async def test_md5_checked_passes_matching_content_through() -> None:
    digest = hashlib.md5(b"abcdef").digest()
    assert [c async for c in md5_checked(_chunks(b"abc", b"def"), digest, "s3://b/k")] == [b"abc", b"def"]


async def test_md5_checked_raises_before_the_end_on_a_mismatch() -> None:
    seen = []
    with pytest.raises(InvalidArgument):
        async for chunk in md5_checked(_chunks(b"abc", b"def"), hashlib.md5(b"x").digest(), "s3://b/k"):
            seen.append(chunk)
    assert seen == [b"abc", b"def"]


async def test_size_limited_raises_past_the_limit() -> None:
    with pytest.raises(ResourceExhausted):
        async for _ in size_limited(_chunks(b"abc", b"def"), 5):
            pass


async def test_reader_reads_exact_sizes_across_chunk_boundaries() -> None:
    reader = AsyncIteratorReader(_chunks(b"abc", b"", b"defgh", b"ij"), asyncio.get_running_loop())

    def read_all() -> list[bytes]:
        return [reader.read(4), reader.read(4), reader.read(4), reader.read(4)]

    assert await asyncio.to_thread(read_all) == [b"abcd", b"efgh", b"ij", b""]


async def test_reader_can_seek_back_within_the_last_block_read() -> None:
    reader = AsyncIteratorReader(_chunks(b"abcdef", b"ghij"), asyncio.get_running_loop())

    def read_seek_read() -> tuple[bytes, int, bytes, bytes]:
        first = reader.read(4)
        position = reader.seek(2)
        return first, position, reader.read(4), reader.read()

    assert await asyncio.to_thread(read_seek_read) == (b"abcd", 2, b"cdef", b"ghij")
    assert reader.tell() == 10


async def test_reader_refuses_seeks_outside_the_last_block() -> None:
    reader = AsyncIteratorReader(_chunks(b"abcdef"), asyncio.get_running_loop())
    await asyncio.to_thread(reader.read, 2)
    await asyncio.to_thread(reader.read, 2)
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(0)


async def test_reader_passes_the_iterators_error_to_the_blocking_side() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"ab"
        raise ConnectionResetError("gone")

    reader = AsyncIteratorReader(failing(), asyncio.get_running_loop())
    with pytest.raises(ConnectionResetError):
        await asyncio.to_thread(reader.read, 10)


async def test_an_aborted_reader_fails_its_next_read() -> None:
    reader = AsyncIteratorReader(_chunks(b"abc"), asyncio.get_running_loop())
    reader.abort()
    with pytest.raises(OSError, match="aborted"):
        await asyncio.to_thread(reader.read, 1)
