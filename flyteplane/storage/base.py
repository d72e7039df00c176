"""The value types of the storage API and the protocol each URI scheme's backend implements."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from flyteplane.errors import ResourceExhausted

HttpMethod = Literal["GET", "PUT"]

# Longest validity of a signed URL: what S3 SigV4 and GCS V4 signatures allow.
MAX_SIGNED_URL_VALIDITY = timedelta(days=7)


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object. `md5` is the content's MD5 digest (16 bytes), filled by `head` when the
    backend can tell; listings leave it None."""

    uri: str
    size: int
    md5: bytes | None = None


@dataclass(frozen=True)
class SignedUrl:
    """A URL that lets a plain HTTP client `method` one object until `expires_at`, without credentials.

    The client must send `headers` with its request (e.g. the signed `Content-MD5` of a PUT).
    """

    url: str
    method: HttpMethod
    expires_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


class Backend(Protocol):
    """What `Storage` needs from one URI scheme. URIs reaching a backend have that backend's scheme;
    each backend checks the rest and raises `InvalidArgument`, `NotFound` and friends itself."""

    async def check(self, uri: str) -> None:
        """Raises InvalidArgument unless `uri` is an object location this backend can address."""
        ...

    def read_stream(self, uri: str, chunk_size: int) -> AsyncIterator[bytes]:
        """The object's content in chunks of at most `chunk_size` bytes; NotFound on first iteration."""
        ...

    async def read(self, uri: str, limit: int, chunk_size: int) -> bytes:
        """The whole object; ResourceExhausted when it is larger than `limit` bytes."""
        ...

    async def write(self, uri: str, data: bytes) -> None: ...

    async def write_stream(self, uri: str, chunks: AsyncIterable[bytes]) -> None:
        """Stores the concatenated chunks; if `chunks` raises, nothing is stored and the error propagates."""
        ...

    async def write_file(self, uri: str, path: str | os.PathLike[str]) -> None: ...

    async def exists(self, uri: str) -> bool: ...

    async def exist(self, uris: Sequence[str]) -> list[bool]:
        """`exists` for each of `uris`, in one go where the backend can."""
        ...

    async def head(self, uri: str) -> ObjectInfo: ...

    def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object whose URI starts with `prefix`, recursively, in lexicographic key order."""
        ...

    async def copy(self, src: str, dst: str) -> None:
        """Copies between two URIs of this backend, server-side where the backend can."""
        ...

    async def delete(self, uri: str, *, missing_ok: bool) -> None: ...

    async def signed_url(
        self, uri: str, method: HttpMethod, expires_in: timedelta, content_md5: bytes | None
    ) -> SignedUrl: ...


async def read_streamed(backend: Backend, uri: str, limit: int, chunk_size: int) -> bytes:
    """`Backend.read` for backends that read in chunks anyway."""
    parts: list[bytes] = []
    size = 0
    async for chunk in backend.read_stream(uri, chunk_size):
        size += len(chunk)
        if size > limit:
            raise ResourceExhausted(f"{uri} is larger than max_read_bytes ({limit}); stream it")
        parts.append(chunk)
    return b"".join(parts)


async def exist_each(backend: Backend, uris: Sequence[str]) -> list[bool]:
    """`Backend.exist` for backends that ask about one object at a time: concurrently."""
    return list(await asyncio.gather(*(backend.exists(uri) for uri in uris)))
