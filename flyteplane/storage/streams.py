"""Chunk-stream helpers for the backends: re-chunking, size and digest checks, an async-to-blocking bridge.

The bridge, `AsyncIteratorReader`, lets a blocking SDK upload running in a worker thread pull its
input from an async iterator on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import io
import os
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from flyteplane.errors import InvalidArgument, ResourceExhausted


async def rechunk(chunks: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    """The same bytes in blocks of exactly `size` (the last one may be shorter, none is empty)."""
    pending: list[bytes] = []
    held = 0
    async for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        while held >= size:
            joined = b"".join(pending)
            pending.clear()
            block, rest = joined[:size], joined[size:]
            del joined
            if rest:
                pending.append(rest)
            held = len(rest)
            del rest
            yield block
            del block
    if held:
        yield b"".join(pending)


async def md5_checked(chunks: AsyncIterable[bytes], expected: bytes, uri: str) -> AsyncIterator[bytes]:
    """Passes `chunks` through and, before reporting the end, raises InvalidArgument if their MD5 is not
    `expected`. Backends store nothing when their input raises, so a wrong body is never stored."""
    digest = hashlib.md5(usedforsecurity=False)
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.digest() != expected:
        raise InvalidArgument(f"content of {uri} does not match its Content-MD5", field="content_md5")


async def size_limited(chunks: AsyncIterable[bytes], limit: int) -> AsyncIterator[bytes]:
    """Passes `chunks` through, raising ResourceExhausted once more than `limit` bytes went by."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise ResourceExhausted(f"object is larger than {limit} bytes")
        yield chunk


def file_md5(path: str | os.PathLike[str]) -> bytes:
    """MD5 of a local file, read in blocks (call it from a worker thread)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.digest()


class AsyncIteratorReader(io.RawIOBase):
    """A blocking, read-only file object over an async iterator, for SDK calls that upload from a stream
    in a worker thread. Each read pulls chunks on the event loop; `tell()` and seeking back inside the
    last block returned are supported, as resumable uploads need them."""

    def __init__(self, chunks: AsyncIterable[bytes], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._chunks = aiter(chunks)
        self._loop = loop
        self._pending = b""  # pulled but not yet read
        self._position = 0
        self._last_block = b""  # the block returned by the last read, for seeks back into it
        self._last_start = 0
        self._replay = b""  # bytes re-read after a seek back
        self._aborted = False
        self._inflight: concurrent.futures.Future[bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # only within the last block; other seeks raise io.UnsupportedOperation

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or not self._last_start <= offset <= self._position:
            raise io.UnsupportedOperation("can only seek back within the last block read")
        self._replay = self._last_block[offset - self._last_start : self._position - self._last_start]
        self._replay += self._pending
        self._pending = b""
        self._position = offset
        return offset

    def abort(self) -> None:
        """Makes the next (or current) read fail, ending the upload that reads from this object."""
        self._aborted = True
        if self._inflight is not None:
            self._inflight.cancel()

    async def _next_chunk(self) -> bytes:
        """The next non-empty chunk, or b"" at the end."""
        while (chunk := await anext(self._chunks, None)) is not None:
            if chunk:
                return chunk
        return b""

    def _pull(self) -> bytes:
        if self._aborted:
            raise OSError("upload aborted")
        self._inflight = asyncio.run_coroutine_threadsafe(self._next_chunk(), self._loop)
        try:
            return self._inflight.result()
        except concurrent.futures.CancelledError:
            raise OSError("upload aborted") from None
        finally:
            self._inflight = None

    def read(self, size: int | None = -1) -> bytes:
        want = -1 if size is None else size
        parts = [self._replay] if self._replay else []
        have = len(self._replay)
        self._replay = b""
        if self._pending:
            parts.append(self._pending)
            have += len(self._pending)
            self._pending = b""
        self._last_block = b""  # seeks come between reads, so the previous block is done with
        while want < 0 or have < want:
            chunk = self._pull()
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if 0 <= want < len(data):
            data, self._pending = data[:want], data[want:]
        self._last_start, self._last_block = self._position, data
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
