"""The gs:// backend over google-cloud-storage, for GCS and its emulators; every SDK call runs in a thread.

Streams go up as resumable uploads in `GCSConfig.upload_chunk_size` chunks, about three of them in
memory at a time (a stream that fits in one chunk is sent in one request); an upload whose input
fails is never finalized, so nothing is stored.
Reads fetch ranges of one object generation, so a concurrent overwrite is detected, not spliced in.
Signed URLs are V4 and need a service-account key (`GCSConfig.service_account_file`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import google.api_core.exceptions as google_errors
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import GoogleAuthError, TransportError
from google.cloud import storage as gcs
from google.cloud.storage.exceptions import DataCorruption, InvalidResponse
from google.oauth2 import service_account
from requests.exceptions import RequestException

from flyteplane.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from flyteplane.storage.base import HttpMethod, ObjectInfo, SignedUrl, exist_each, read_streamed
from flyteplane.storage.config import GCSConfig
from flyteplane.storage.streams import AsyncIteratorReader, rechunk
from flyteplane.storage.uri import BucketKey, parse_bucket_key

P = ParamSpec("P")
T = TypeVar("T")

_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",)
_CONTENT_TYPE = "application/octet-stream"


@contextlib.contextmanager
def _translated(uri: str) -> Iterator[None]:
    """Turns google-cloud-storage's errors into flyteplane's."""
    try:
        yield
    except google_errors.NotFound as error:
        raise NotFound(f"object {uri} does not exist", field="uri") from error
    except (google_errors.Forbidden, google_errors.Unauthorized) as error:
        raise PermissionDenied(f"access to {uri} denied: {error.message}", field="uri") from error
    except google_errors.PreconditionFailed as error:
        raise Aborted(f"{uri} changed during the operation; retry") from error
    except google_errors.BadRequest as error:
        raise InvalidArgument(f"GCS refused a request for {uri}: {error.message}", field="uri") from error
    except InvalidResponse as error:
        status = getattr(getattr(error, "response", None), "status_code", 0)
        if status == 404:
            raise NotFound(f"{uri}: bucket or object does not exist", field="uri") from error
        raise Unavailable(f"GCS failed a request for {uri}: {error}") from error
    except DataCorruption as error:
        raise Unavailable(f"{uri} was corrupted in transit; retry") from error
    except (google_errors.GoogleAPIError, TransportError, RequestException) as error:
        raise Unavailable(f"GCS failed a request for {uri}: {error}") from error
    except GoogleAuthError as error:
        raise FailedPrecondition(f"no usable GCS credentials for {uri}: {error}") from error


class GCSBackend:
    """gs:// URIs on one GCS endpoint, configured by `GCSConfig`."""

    def __init__(self, config: GCSConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._client_instance: Any = None
        self._key: service_account.Credentials | None = None

    def _service_account(self) -> service_account.Credentials | None:
        if self._config.service_account_file is None:
            return None
        if self._key is None:
            self._key = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                os.fspath(self._config.service_account_file), scopes=_SCOPES
            )
        return self._key

    @property
    def _client(self) -> Any:
        """The `google.cloud.storage.Client`, created on first use; call only from worker threads."""
        with self._lock:
            if self._client_instance is None:
                credentials: Credentials | None = (
                    AnonymousCredentials()  # type: ignore[no-untyped-call]
                    if self._config.anonymous
                    else self._service_account()
                )
                project = self._config.project or ("<none>" if self._config.anonymous else None)
                options = {"api_endpoint": self._config.endpoint_url} if self._config.endpoint_url else None
                self._client_instance = gcs.Client(project=project, credentials=credentials, client_options=options)
            return self._client_instance

    def _blob(self, where: BucketKey, **kwargs: Any) -> Any:
        return self._client.bucket(where.bucket).blob(where.key, **kwargs)

    async def _run(self, uri: str, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        with _translated(uri):
            return await asyncio.to_thread(call, *args, **kwargs)

    # -- blocking helpers (worker threads only) -----------------------------------------------------

    def _get_blob(self, where: BucketKey) -> Any:
        blob = self._client.bucket(where.bucket).get_blob(where.key)
        if blob is None:
            raise NotFound(f"object {where.uri()} does not exist", field="uri")
        return blob

    def _upload_bytes(self, where: BucketKey, data: bytes) -> None:
        self._blob(where).upload_from_string(data, content_type=_CONTENT_TYPE, checksum="md5")

    def _signing_key(self) -> Credentials:
        key = self._service_account()
        if key is not None:
            return key
        client_credentials: Credentials = self._client._credentials
        if not hasattr(client_credentials, "sign_bytes"):
            raise FailedPrecondition(
                "gs:// signed URLs need a service-account key: set storage.gcs.service_account_file"
            )
        return client_credentials

    # -- the Backend protocol -------------------------------------------------------------------------

    async def check(self, uri: str) -> None:
        parse_bucket_key(uri)

    async def read_stream(self, uri: str, chunk_size: int) -> AsyncIterator[bytes]:
        where = parse_bucket_key(uri)
        blob = await self._run(uri, self._get_blob, where)
        size, generation, start = int(blob.size), blob.generation, 0
        while start < size:
            end = min(start + chunk_size, size) - 1
            chunk: bytes = await self._run(
                uri,
                blob.download_as_bytes,
                start=start,
                end=end,
                raw_download=True,
                if_generation_match=generation,
                checksum=None,
            )
            if not chunk:
                raise Aborted(f"{uri} ended early while being read; retry")
            start += len(chunk)
            yield chunk

    async def write(self, uri: str, data: bytes) -> None:
        await self._run(uri, self._upload_bytes, parse_bucket_key(uri), data)

    async def write_stream(self, uri: str, chunks: AsyncIterable[bytes]) -> None:
        where = parse_bucket_key(uri)
        chunk_size = self._config.upload_chunk_size
        blocks = aiter(rechunk(chunks, chunk_size))
        first = await anext(blocks, b"")
        if len(first) < chunk_size:
            await self.write(uri, first)
            return

        async def everything() -> AsyncIterator[bytes]:
            nonlocal first
            block, first = first, b""
            while block:
                yield block
                block = b""  # let it go before the next chunk is assembled
                block = await anext(blocks, b"")

        reader = AsyncIteratorReader(everything(), asyncio.get_running_loop())

        def upload() -> None:
            blob = self._blob(where, chunk_size=chunk_size)
            blob.upload_from_file(reader, content_type=_CONTENT_TYPE, checksum="md5")

        try:
            await self._run(uri, upload)
        except BaseException:
            reader.abort()
            raise

    async def write_file(self, uri: str, path: str | os.PathLike[str]) -> None:
        where = parse_bucket_key(uri)

        def upload() -> None:
            blob = self._blob(where, chunk_size=self._config.upload_chunk_size)
            blob.upload_from_filename(os.fspath(path), content_type=_CONTENT_TYPE, checksum="md5")

        try:
            await self._run(uri, upload)
        except FileNotFoundError:
            raise NotFound(f"local file {os.fspath(path)} does not exist", field="path") from None

    async def read(self, uri: str, limit: int, chunk_size: int) -> bytes:
        return await read_streamed(self, uri, limit, chunk_size)

    async def exist(self, uris: Sequence[str]) -> list[bool]:
        return await exist_each(self, uris)

    async def exists(self, uri: str) -> bool:
        where = parse_bucket_key(uri)
        return bool(await self._run(uri, lambda: self._blob(where).exists()))

    async def head(self, uri: str) -> ObjectInfo:
        blob = await self._run(uri, self._get_blob, parse_bucket_key(uri))
        md5 = base64.b64decode(blob.md5_hash) if blob.md5_hash else None
        return ObjectInfo(uri, int(blob.size), md5)

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        where = parse_bucket_key(prefix, key_required=False)
        pages = await self._run(
            prefix, lambda: iter(self._client.list_blobs(where.bucket, prefix=where.key or None).pages)
        )
        while (page := await self._run(prefix, next, pages, None)) is not None:
            for blob in list(page):
                yield ObjectInfo(where.uri(blob.name), int(blob.size))

    async def copy(self, src: str, dst: str) -> None:
        source, target = parse_bucket_key(src), parse_bucket_key(dst)

        def rewrite() -> None:
            source_blob, target_blob = self._blob(source), self._blob(target)
            token = None
            while True:
                token, _, _ = target_blob.rewrite(source_blob, token=token)
                if token is None:
                    return

        await self._run(src, rewrite)

    async def delete(self, uri: str, *, missing_ok: bool) -> None:
        where = parse_bucket_key(uri)
        try:
            await self._run(uri, lambda: self._blob(where).delete())
        except NotFound:
            if not missing_ok:
                raise

    async def signed_url(
        self, uri: str, method: HttpMethod, expires_in: timedelta, content_md5: bytes | None
    ) -> SignedUrl:
        where = parse_bucket_key(uri)
        md5_b64 = base64.b64encode(content_md5).decode() if content_md5 is not None else None
        issued = datetime.now(UTC)

        def sign() -> str:
            url: str = self._blob(where).generate_signed_url(
                version="v4",
                expiration=expires_in,
                method=method,
                content_md5=md5_b64,
                credentials=self._signing_key(),
                api_access_endpoint=self._config.endpoint_url,
            )
            return url

        try:
            url = await self._run(uri, sign)
        except AttributeError as error:  # credentials without a private key
            raise FailedPrecondition(f"cannot sign gs:// URLs with these credentials: {error}") from error
        headers = {"Content-MD5": md5_b64} if md5_b64 else {}
        return SignedUrl(url, method, issued + expires_in, headers)
