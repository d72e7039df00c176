"""The s3:// backend over boto3, for AWS and any S3-compatible endpoint; every SDK call runs in a thread.

Streams are uploaded part by part (`S3Config.multipart_part_size`, about two parts in memory at a
time); a stream shorter than one part goes up in a single PUT, and a failed stream aborts its
multipart upload. `head` reports the MD5 from the ETag of a single-part upload, or from the `md5`
user metadata that `write_file` stores; a streamed multipart upload has no MD5 known to S3, so it
reports None.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from flyteplane.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable
from flyteplane.storage.base import HttpMethod, ObjectInfo, SignedUrl, exist_each, read_streamed
from flyteplane.storage.config import GiB, S3Config
from flyteplane.storage.streams import file_md5, rechunk
from flyteplane.storage.uri import BucketKey, parse_bucket_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, CopySourceTypeDef

P = ParamSpec("P")
T = TypeVar("T")

MD5_METADATA = "md5"  # user metadata key (x-amz-meta-md5) holding the base64 MD5 of the content
_SINGLE_COPY_LIMIT = 5 * GiB  # CopyObject's limit; larger objects are copied part by part
_PLAIN_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NotFound"})


def _b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


@contextlib.contextmanager
def _translated(uri: str) -> Iterator[None]:
    """Turns boto3's errors into flyteplane's."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _MISSING_CODES or status == 404:
            raise NotFound(f"object {uri} does not exist ({code})", field="uri") from error
        if status == 403:
            raise PermissionDenied(f"access to {uri} denied ({code})", field="uri") from error
        if code in ("BadDigest", "InvalidDigest"):
            raise InvalidArgument(f"content of {uri} does not match its MD5", field="content_md5") from error
        if 400 <= status < 500:
            raise InvalidArgument(f"S3 refused a request for {uri}: {code}", field="uri") from error
        raise Unavailable(f"S3 failed a request for {uri}: {code or status}") from error
    except NoCredentialsError as error:
        raise FailedPrecondition(f"no S3 credentials configured or found for {uri}") from error
    except BotoCoreError as error:
        raise Unavailable(f"S3 cannot be reached for {uri}: {error}") from error


class S3Backend:
    """s3:// URIs on one S3 endpoint, configured by `S3Config`."""

    def __init__(self, config: S3Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._client_instance: S3Client | None = None

    @property
    def _client(self) -> S3Client:
        """The boto3 client, created on first use; call only from worker threads (creation reads files)."""
        with self._lock:
            if self._client_instance is None:
                config = self._config
                session = boto3.session.Session(
                    aws_access_key_id=config.access_key_id,
                    aws_secret_access_key=(
                        config.secret_access_key.get_secret_value() if config.secret_access_key else None
                    ),
                    region_name=config.region,
                )
                self._client_instance = session.client(
                    "s3",
                    endpoint_url=config.endpoint_url,
                    config=BotoConfig(
                        signature_version="s3v4",
                        s3={"addressing_style": "path" if config.path_style else "auto"},
                        # Checksums beyond Content-MD5 only when the API demands them: many
                        # S3-compatible stores reject the newer default trailing checksums.
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required",
                        retries={"mode": "standard"},
                    ),
                )
            return self._client_instance

    async def _run(self, uri: str, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        with _translated(uri):
            return await asyncio.to_thread(call, *args, **kwargs)

    # -- blocking helpers (worker threads only) -----------------------------------------------------

    def _put(self, where: BucketKey, data: bytes) -> None:
        self._client.put_object(Bucket=where.bucket, Key=where.key, Body=data, ContentMD5=_b64md5(data))

    def _upload_part(self, where: BucketKey, upload_id: str, number: int, data: bytes) -> str:
        response = self._client.upload_part(
            Bucket=where.bucket,
            Key=where.key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ContentMD5=_b64md5(data),
        )
        return response["ETag"]

    def _head(self, where: BucketKey) -> ObjectInfo:
        response = self._client.head_object(Bucket=where.bucket, Key=where.key)
        md5: bytes | None = None
        stored = response.get("Metadata", {}).get(MD5_METADATA)
        etag = _PLAIN_ETAG.match(response.get("ETag", ""))
        if stored:
            md5 = base64.b64decode(stored)
        elif etag and response.get("ServerSideEncryption") != "aws:kms":
            md5 = bytes.fromhex(etag.group(1))
        return ObjectInfo(where.uri(), response["ContentLength"], md5)

    # -- the Backend protocol -------------------------------------------------------------------------

    async def check(self, uri: str) -> None:
        parse_bucket_key(uri)

    async def read_stream(self, uri: str, chunk_size: int) -> AsyncIterator[bytes]:
        where = parse_bucket_key(uri)
        response = await self._run(uri, lambda: self._client.get_object(Bucket=where.bucket, Key=where.key))
        body = response["Body"]
        try:
            while chunk := await self._run(uri, body.read, chunk_size):
                yield chunk
        finally:
            body.close()

    async def write(self, uri: str, data: bytes) -> None:
        await self._run(uri, self._put, parse_bucket_key(uri), data)

    async def write_stream(self, uri: str, chunks: AsyncIterable[bytes]) -> None:
        where = parse_bucket_key(uri)
        part_size = self._config.multipart_part_size
        parts = aiter(rechunk(chunks, part_size))
        first = await anext(parts, b"")
        if len(first) < part_size:
            await self.write(uri, first)
            return

        created = await self._run(uri, lambda: self._client.create_multipart_upload(Bucket=where.bucket, Key=where.key))
        upload_id = created["UploadId"]
        try:
            completed: list[CompletedPartTypeDef] = []
            number = 1
            etag = await self._run(uri, self._upload_part, where, upload_id, number, first)
            completed.append({"ETag": etag, "PartNumber": number})
            del first
            async for block in parts:
                number += 1
                etag = await self._run(uri, self._upload_part, where, upload_id, number, block)
                completed.append({"ETag": etag, "PartNumber": number})
                del block  # let it go before the next part is assembled
            await self._run(
                uri,
                lambda: self._client.complete_multipart_upload(
                    Bucket=where.bucket,
                    Key=where.key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": completed},
                ),
            )
        except BaseException:
            # Shielded: a cancelled upload must still release the parts S3 already holds.
            abort = asyncio.to_thread(
                lambda: self._client.abort_multipart_upload(Bucket=where.bucket, Key=where.key, UploadId=upload_id)
            )
            with contextlib.suppress(Exception):
                await asyncio.shield(abort)
            raise

    async def write_file(self, uri: str, path: str | os.PathLike[str]) -> None:
        where = parse_bucket_key(uri)
        try:
            md5 = await asyncio.to_thread(file_md5, path)
        except FileNotFoundError:
            raise NotFound(f"local file {os.fspath(path)} does not exist", field="path") from None
        part_size = self._config.multipart_part_size
        transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size)
        extra: dict[str, Any] = {"Metadata": {MD5_METADATA: base64.b64encode(md5).decode()}}
        await self._run(
            uri,
            lambda: self._client.upload_file(
                os.fspath(path), where.bucket, where.key, ExtraArgs=extra, Config=transfer
            ),
        )

    async def read(self, uri: str, limit: int, chunk_size: int) -> bytes:
        return await read_streamed(self, uri, limit, chunk_size)

    async def exist(self, uris: Sequence[str]) -> list[bool]:
        return await exist_each(self, uris)

    async def exists(self, uri: str) -> bool:
        try:
            await self.head(uri)
        except NotFound:
            return False
        return True

    async def head(self, uri: str) -> ObjectInfo:
        return await self._run(uri, self._head, parse_bucket_key(uri))

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        where = parse_bucket_key(prefix, key_required=False)
        pages = await self._run(
            prefix,
            lambda: iter(self._client.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=where.key)),
        )
        while page := await self._run(prefix, next, pages, None):
            for item in page.get("Contents", []):
                yield ObjectInfo(where.uri(item["Key"]), item["Size"])

    async def copy(self, src: str, dst: str) -> None:
        source, target = parse_bucket_key(src), parse_bucket_key(dst)
        size = (await self.head(src)).size
        copy_source: CopySourceTypeDef = {"Bucket": source.bucket, "Key": source.key}
        if size <= _SINGLE_COPY_LIMIT:
            await self._run(
                src,
                lambda: self._client.copy_object(Bucket=target.bucket, Key=target.key, CopySource=copy_source),
            )
        else:
            await self._run(src, lambda: self._client.copy(copy_source, target.bucket, target.key))

    async def delete(self, uri: str, *, missing_ok: bool) -> None:
        where = parse_bucket_key(uri)
        if not missing_ok:
            await self.head(uri)
        await self._run(uri, lambda: self._client.delete_object(Bucket=where.bucket, Key=where.key))

    async def signed_url(
        self, uri: str, method: HttpMethod, expires_in: timedelta, content_md5: bytes | None
    ) -> SignedUrl:
        where = parse_bucket_key(uri)
        params: dict[str, str] = {"Bucket": where.bucket, "Key": where.key}
        headers: dict[str, str] = {}
        if content_md5 is not None:
            params["ContentMD5"] = headers["Content-MD5"] = base64.b64encode(content_md5).decode()
        seconds = int(expires_in.total_seconds())
        issued = datetime.now(UTC)
        url = await self._run(
            uri,
            lambda: self._client.generate_presigned_url(
                "get_object" if method == "GET" else "put_object", Params=params, ExpiresIn=seconds
            ),
        )
        return SignedUrl(url, method, issued + timedelta(seconds=seconds), headers)
