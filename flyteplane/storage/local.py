"""The file:// backend: objects are files under one root directory, written atomically.

URIs are `file:///absolute/path` (or `file://localhost/absolute/path`) and must resolve -- symlinks
included -- inside the root; anything else is refused with InvalidArgument. A write goes to a
temporary file beside its target (named `.flyteplane-tmp-*`, never listed), is fsynced, then renamed
over the target, so readers see the old object or the new one, never a part. Signed URLs point at the
HTTP server described in `flyteplane.storage.signing`. `head` computes the MD5 by reading the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flyteplane.errors import InvalidArgument, NotFound
from flyteplane.storage.base import HttpMethod, ObjectInfo, SignedUrl
from flyteplane.storage.signing import LocalUrlSigner
from flyteplane.storage.streams import file_md5, rechunk
from flyteplane.storage.uri import split_scheme

TEMP_PREFIX = ".flyteplane-tmp-"
_WRITE_BLOCK = 1024 * 1024


class FileBackend:
    """Objects as files under `root`; see the module docstring for the rules."""

    def __init__(self, root: Path, signer: LocalUrlSigner, *, fsync: bool = False) -> None:
        self._fsync = fsync
        self._root = os.path.abspath(root)
        self._real_root = os.path.realpath(root)
        self._signer = signer

    # -- paths ------------------------------------------------------------------------------------

    def _local_path(self, uri: str) -> str:
        """The absolute path a URI names, lexically; refuses relative and non-file URIs."""
        scheme, rest = split_scheme(uri)
        if scheme != "file":
            raise InvalidArgument(f"expected a file:// URI, got {uri!r}", field="uri")
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
        if not rest.startswith("/"):
            raise InvalidArgument(f"file URIs must be absolute (file:///path), got {uri!r}", field="uri")
        return rest

    def _inside_root(self, real: str) -> bool:
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def _object_path(self, uri: str) -> str:
        """The real path of the object `uri` names; blocking (resolves symlinks)."""
        real = os.path.realpath(self._local_path(uri))
        if not self._inside_root(real):
            raise InvalidArgument(f"{uri!r} is outside the storage root {self._root}", field="uri")
        if real == self._real_root or uri.endswith("/"):
            raise InvalidArgument(f"{uri!r} names no object", field="uri")
        return real

    def _relative_prefix(self, prefix: str) -> str:
        """The root-relative text a listing prefix asks for; prefixes match keys as strings."""
        wanted = self._local_path(prefix)
        for root in (self._root.rstrip("/"), self._real_root.rstrip("/")):
            if wanted.rstrip("/") == root:
                return ""
            if wanted.startswith(root + "/"):
                return wanted[len(root) + 1 :]
        raise InvalidArgument(f"{prefix!r} is outside the storage root {self._root}", field="prefix")

    def _uri_of(self, relative: str) -> str:
        return f"file://{self._root.rstrip('/')}/{relative}"

    # -- blocking helpers (worker threads only) -----------------------------------------------------

    def _open_for_read(self, uri: str) -> BinaryIO:
        path = self._object_path(uri)
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"object {uri} does not exist", field="uri") from None

    def _open_temp(self, uri: str) -> tuple[str, str, BinaryIO]:
        """(target path, temp path, temp file) for an atomic write of `uri`."""
        path = self._object_path(uri)
        if os.path.isdir(path):
            raise InvalidArgument(f"{uri!r} is a directory, not an object", field="uri")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidArgument(f"a parent of {uri!r} is an object", field="uri") from None
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=os.path.dirname(path))
        return path, temp, os.fdopen(fd, "wb")

    def _commit(self, path: str, temp: str, handle: BinaryIO) -> None:
        handle.flush()
        if self._fsync:
            os.fsync(handle.fileno())
        handle.close()
        os.chmod(temp, 0o644)
        os.replace(temp, path)

    @staticmethod
    def _discard(temp: str, handle: BinaryIO) -> None:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)

    def _write_with(self, uri: str, fill: Callable[[BinaryIO], None]) -> None:
        path, temp, handle = self._open_temp(uri)
        try:
            fill(handle)
            self._commit(path, temp, handle)
        except BaseException:
            self._discard(temp, handle)
            raise

    def _scan(self, directory: str) -> list[tuple[str, bool, int]]:
        """(name, is_directory, size) of the entries of `directory` worth listing."""
        found: list[tuple[str, bool, int]] = []
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return found
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue
            if entry.is_dir(follow_symlinks=False):
                found.append((entry.name, True, 0))
            elif entry.is_file() and (not entry.is_symlink() or self._inside_root(os.path.realpath(entry.path))):
                found.append((entry.name, False, entry.stat().st_size))
        # Directories sort as "name/" so that a depth-first walk yields keys in lexicographic order.
        found.sort(key=lambda item: item[0] + "/" if item[1] else item[0])
        return found

    # -- the Backend protocol -------------------------------------------------------------------------

    async def check(self, uri: str) -> None:
        await asyncio.to_thread(self._object_path, uri)

    async def read_stream(self, uri: str, chunk_size: int) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._open_for_read, uri)
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()

    async def write(self, uri: str, data: bytes) -> None:
        def fill(handle: BinaryIO) -> None:
            handle.write(data)

        await asyncio.to_thread(self._write_with, uri, fill)

    async def write_stream(self, uri: str, chunks: AsyncIterable[bytes]) -> None:
        path, temp, handle = await asyncio.to_thread(self._open_temp, uri)
        try:
            async for block in rechunk(chunks, _WRITE_BLOCK):
                await asyncio.to_thread(handle.write, block)
                del block
            await asyncio.to_thread(self._commit, path, temp, handle)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self._discard, temp, handle))
            raise

    async def write_file(self, uri: str, path: str | os.PathLike[str]) -> None:
        def fill(handle: BinaryIO) -> None:
            try:
                source = open(path, "rb")  # noqa: SIM115 -- closed just below
            except FileNotFoundError:
                raise NotFound(f"local file {os.fspath(path)} does not exist", field="path") from None
            with source:
                shutil.copyfileobj(source, handle, _WRITE_BLOCK)

        await asyncio.to_thread(self._write_with, uri, fill)

    async def exists(self, uri: str) -> bool:
        return await asyncio.to_thread(lambda: os.path.isfile(self._object_path(uri)))

    async def head(self, uri: str) -> ObjectInfo:
        def head() -> ObjectInfo:
            path = self._object_path(uri)
            if not os.path.isfile(path):
                raise NotFound(f"object {uri} does not exist", field="uri")
            try:
                return ObjectInfo(uri, os.path.getsize(path), file_md5(path))
            except FileNotFoundError:
                raise NotFound(f"object {uri} does not exist", field="uri") from None

        return await asyncio.to_thread(head)

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        relative_prefix = self._relative_prefix(prefix)

        def relevant(key: str, is_directory: bool) -> bool:
            if is_directory:
                return (key + "/").startswith(relative_prefix) or relative_prefix.startswith(key + "/")
            return key.startswith(relative_prefix)

        start = relative_prefix.rpartition("/")[0]
        stack: list[tuple[str, Iterator[tuple[str, bool, int]]]] = []
        entries = await asyncio.to_thread(self._scan, os.path.join(self._real_root, start))
        stack.append((start, iter(entries)))
        while stack:
            directory, pending = stack[-1]
            entry = next(pending, None)
            if entry is None:
                stack.pop()
                continue
            name, is_directory, size = entry
            key = f"{directory}/{name}" if directory else name
            if not relevant(key, is_directory):
                continue
            if is_directory:
                children = await asyncio.to_thread(self._scan, os.path.join(self._real_root, key))
                stack.append((key, iter(children)))
            else:
                yield ObjectInfo(self._uri_of(key), size)

    async def copy(self, src: str, dst: str) -> None:
        def copy() -> None:
            with self._open_for_read(src) as source:
                self._write_with(dst, lambda handle: shutil.copyfileobj(source, handle, _WRITE_BLOCK))

        await asyncio.to_thread(copy)

    async def delete(self, uri: str, *, missing_ok: bool) -> None:
        def delete() -> None:
            path = self._object_path(uri)
            try:
                if os.path.isdir(path):
                    raise FileNotFoundError(path)
                os.remove(path)
            except (FileNotFoundError, NotADirectoryError):
                if not missing_ok:
                    raise NotFound(f"object {uri} does not exist", field="uri") from None

        await asyncio.to_thread(delete)

    async def signed_url(
        self, uri: str, method: HttpMethod, expires_in: timedelta, content_md5: bytes | None
    ) -> SignedUrl:
        def relative() -> str:
            return os.path.relpath(self._object_path(uri), self._real_root).replace(os.sep, "/")

        return self._signer.sign(await asyncio.to_thread(relative), method, expires_in, content_md5)
