"""`Storage`: the one URI-keyed object store every component uses, dispatching to file://, s3:// and gs://."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from google.protobuf.message import DecodeError, Message

from flyteplane.errors import InvalidArgument
from flyteplane.storage.base import MAX_SIGNED_URL_VALIDITY, Backend, HttpMethod, ObjectInfo, SignedUrl
from flyteplane.storage.config import StorageConfig
from flyteplane.storage.gcs import GCSBackend
from flyteplane.storage.local import FileBackend
from flyteplane.storage.s3 import S3Backend
from flyteplane.storage.signing import LocalUrlSigner
from flyteplane.storage.streams import md5_checked
from flyteplane.storage.uri import join, split_scheme

if TYPE_CHECKING:
    from flyteplane.metrics import StorageMetrics

M = TypeVar("M", bound=Message)
T = TypeVar("T")


class Storage:
    """Reads, writes, lists, copies, deletes and signs objects named by `file://`, `s3://` or `gs://` URIs.

    Every method is async and runs blocking work in worker threads. Missing objects raise
    `flyteplane.errors.NotFound`; malformed or out-of-bounds URIs raise `InvalidArgument`; a store
    that cannot be reached raises `Unavailable`. SDK clients are created on first use, in a worker
    thread, so an unused scheme needs no configuration or credentials.
    """

    join = staticmethod(join)

    def __init__(self, config: StorageConfig | None = None, metrics: StorageMetrics | None = None) -> None:
        self.config = config or StorageConfig()
        self.metrics = metrics  # times every operation by backend when given

    @contextmanager
    def _timed(self, uri: str, operation: str) -> Iterator[None]:
        metrics = self.metrics
        if metrics is None:
            yield
            return
        begin = time.perf_counter()
        try:
            yield
        finally:
            backend = uri.partition("://")[0]  # a bad URI was refused inside already: never raise again here
            metrics.seconds.labels(backend, operation).observe(time.perf_counter() - begin)

    def _timed_stream(self, uri: str, operation: str, stream: AsyncIterator[T]) -> AsyncIterator[T]:
        if self.metrics is None:
            return stream

        async def timed() -> AsyncIterator[T]:
            with self._timed(uri, operation):
                async for item in stream:
                    yield item

        return timed()

    # -- backends ---------------------------------------------------------------------------------

    @cached_property
    def local_signer(self) -> LocalUrlSigner:
        """Signs file:// URLs; the HTTP app that serves them verifies with the same signer."""
        secret = self.config.signing_secret
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        return LocalUrlSigner(key, self.config.public_base_url)

    @cached_property
    def _file(self) -> Backend:
        return FileBackend(self.config.local_root, self.local_signer, fsync=self.config.fsync)

    @cached_property
    def _s3(self) -> Backend:
        return S3Backend(self.config.s3)

    @cached_property
    def _gs(self) -> Backend:
        return GCSBackend(self.config.gcs)

    def _backend(self, uri: str) -> Backend:
        scheme, _ = split_scheme(uri)
        if scheme == "file":
            return self._file
        if scheme == "s3":
            return self._s3
        return self._gs

    @property
    def default_prefix(self) -> str:
        """Where new data goes, e.g. `s3://flyteplane`; see `StorageConfig.default_prefix`."""
        return self.config.default_prefix

    # -- objects ----------------------------------------------------------------------------------

    async def check(self, uri: str) -> None:
        """Raises InvalidArgument unless `uri` names an object this store may address."""
        with self._timed(uri, "check"):
            await self._backend(uri).check(uri)

    async def read(self, uri: str) -> bytes:
        """The whole object; ResourceExhausted beyond `max_read_bytes` (use `read_stream` for those)."""
        with self._timed(uri, "read"):
            return await self._backend(uri).read(uri, self.config.max_read_bytes, self.config.stream_chunk_size)

    async def write(self, uri: str, data: bytes) -> None:
        """Stores `data` at `uri`, replacing any object there."""
        with self._timed(uri, "write"):
            await self._backend(uri).write(uri, data)

    async def read_proto(self, uri: str, message_type: type[M]) -> M:
        """The protobuf message of type `message_type` stored at `uri`."""
        message = message_type()
        try:
            message.ParseFromString(await self.read(uri))
        except DecodeError as error:
            name = message_type.DESCRIPTOR.full_name
            raise InvalidArgument(f"{uri} does not hold a {name}: {error}", field="uri") from error
        return message

    async def write_proto(self, uri: str, message: Message) -> None:
        """Stores `message` serialized (deterministically, so equal messages give equal bytes)."""
        await self.write(uri, message.SerializeToString(deterministic=True))

    def read_stream(self, uri: str, *, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The object's content in chunks of at most `chunk_size` bytes (default `stream_chunk_size`),
        never all in memory. NotFound surfaces on the first iteration."""
        stream = self._backend(uri).read_stream(uri, chunk_size or self.config.stream_chunk_size)
        return self._timed_stream(uri, "read_stream", stream)

    async def write_stream(self, uri: str, chunks: AsyncIterable[bytes], *, content_md5: bytes | None = None) -> None:
        """Stores the concatenated `chunks` without holding them all in memory. With `content_md5`, the
        object is stored only if the content has that MD5 (else InvalidArgument, and nothing changes);
        if `chunks` raises, nothing is stored either and the error propagates."""
        if content_md5 is not None:
            chunks = md5_checked(chunks, content_md5, uri)
        with self._timed(uri, "write_stream"):
            await self._backend(uri).write_stream(uri, chunks)

    async def write_file(self, uri: str, path: str | os.PathLike[str]) -> None:
        """Stores the content of local file `path`, streamed."""
        with self._timed(uri, "write_file"):
            await self._backend(uri).write_file(uri, path)

    async def exists(self, uri: str) -> bool:
        with self._timed(uri, "exists"):
            return await self._backend(uri).exists(uri)

    async def exist(self, uris: Sequence[str]) -> list[bool]:
        """`exists` for each of `uris` (of one scheme), in one go where the backend can."""
        backends = [self._backend(uri) for uri in uris]
        if backends and all(backend is backends[0] for backend in backends):
            with self._timed(uris[0], "exist"):
                return await backends[0].exist(uris)
        return list(await asyncio.gather(*(backend.exists(uri) for backend, uri in zip(backends, uris, strict=True))))

    async def head(self, uri: str) -> ObjectInfo:
        """Size and, where the backend can tell, MD5 of the object at `uri`."""
        with self._timed(uri, "head"):
            return await self._backend(uri).head(uri)

    def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object whose URI starts with `prefix` (a string prefix, not only a directory),
        recursively, in lexicographic order. `md5` is left None; `head` an object for it."""
        return self._timed_stream(prefix, "list", self._backend(prefix).list(prefix))

    async def copy(self, src: str, dst: str) -> None:
        """Copies one object, server-side within a backend, streamed across backends."""
        source, target = self._backend(src), self._backend(dst)
        with self._timed(dst, "copy"):
            if source is target:
                await source.copy(src, dst)
            else:
                await target.write_stream(dst, source.read_stream(src, self.config.stream_chunk_size))

    async def delete(self, uri: str, *, missing_ok: bool = False) -> None:
        """Removes the object; NotFound if there is none, unless `missing_ok`."""
        with self._timed(uri, "delete"):
            await self._backend(uri).delete(uri, missing_ok=missing_ok)

    async def signed_url(
        self,
        uri: str,
        method: HttpMethod = "GET",
        expires_in: timedelta = timedelta(hours=1),
        content_md5: bytes | None = None,
    ) -> SignedUrl:
        """A URL a plain HTTP client can GET or PUT the object with, until `expires_in` from now.

        With `content_md5` (PUT only), the uploader must send it as `Content-MD5` (listed in the
        result's `headers`) and a body with another digest is refused.
        """
        if method not in ("GET", "PUT"):
            raise InvalidArgument(f"signed URLs support GET and PUT, not {method!r}", field="method")
        if not timedelta(seconds=1) <= expires_in <= MAX_SIGNED_URL_VALIDITY:
            raise InvalidArgument("expires_in must be between 1 second and 7 days", field="expires_in")
        if content_md5 is not None and (method != "PUT" or len(content_md5) != 16):
            raise InvalidArgument("content_md5 must be a 16-byte MD5 digest, for PUT", field="content_md5")
        with self._timed(uri, "sign_url"):
            return await self._backend(uri).signed_url(uri, method, expires_in, content_md5)
