"""The file:// backend: objects are files under one root directory, written atomically.

URIs are `file:///absolute/path` (or `file://localhost/absolute/path`) and must resolve -- symlinks
included -- inside the root; anything else is refused with InvalidArgument. A write goes to a
temporary file beside its target (named `.flyteplane-tmp-*`, never listed), is fsynced when `fsync`
is set, then renamed over the target, so readers see the old object or the new one, never a part.
Signed URLs point at the HTTP server described in `flyteplane.storage.signing`. `head` computes the
MD5 by reading the file.

Resolving a path is on the hot path of the engine (several object operations per task node), so it
asks the kernel instead of walking components: the object's directory is opened with O_PATH and its
real path read back from /proc/self/fd (one open, one readlink, one close whatever the depth); only a
directory that does not exist yet, or a system without /proc, takes `os.path.realpath`'s walk. The
object's own name is then resolved only when it is a symlink. Small reads and writes and existence
checks issued together (the engine issues hundreds per pass) run together in one worker-thread job,
each with its own result (`flyteplane.threads.Batches`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import secrets
import shutil
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flyteplane.errors import InvalidArgument, NotFound, ResourceExhausted
from flyteplane.storage.base import HttpMethod, ObjectInfo, SignedUrl
from flyteplane.storage.signing import LocalUrlSigner
from flyteplane.storage.streams import file_md5, rechunk
from flyteplane.storage.uri import split_scheme
from flyteplane.threads import Batches

TEMP_PREFIX = ".flyteplane-tmp-"
# What Linux file systems take (NAME_MAX, PATH_MAX less room for a temporary name beside an object):
# a longer name is the caller's mistake (INVALID_ARGUMENT), not the store's failure.
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4096 - 64
# Temporary names: unique within a process by the counter, across processes by the salt (and O_EXCL).
_TEMP_SALT = secrets.token_hex(6)
_TEMP_COUNTER = itertools.count()
_WRITE_BLOCK = 1024 * 1024
# Writes up to this size are batched (`flyteplane.threads.Batches`); larger ones take a worker thread of their own.
_BATCHED_WRITE = 256 * 1024

# Objects up to this size may share a file with an identical one (_Twins).
_TWIN_MAX = 64 * 1024
_TWINS_KEPT = 4096


class _Twins:
    """The files this backend wrote recently, by content, so that writing the same small object again
    (a fan-out's 10,000 identical inputs.pb, an echo task's outputs.pb equal to its inputs.pb) makes a
    hard link to the existing file rather than a new one.

    On the local store a node's objects cost more in new inodes than in bytes (ext4 without a journal
    takes up to a millisecond of CPU per new inode after many deletions). Sharing is safe because
    every write here replaces the target by rename and never modifies a file in place; a twin is
    only used while it is the very file that was written (same inode, size and modification time), and
    anything unusual (the twin deleted or replaced, the link limit, a file system without links)
    falls back to writing the bytes.
    """

    def __init__(self) -> None:
        self._files: dict[bytes, tuple[str, int, int, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(data: bytes) -> bytes:
        return hashlib.blake2b(data, digest_size=20).digest()

    def find(self, data: bytes) -> str | None:
        with self._lock:
            known = self._files.get(self._key(data))
        if known is None:
            return None
        path, inode, size, changed = known
        try:
            info = os.stat(path, follow_symlinks=False)
        except OSError:
            return None
        if (info.st_ino, info.st_size, info.st_mtime_ns) != (inode, size, changed) or size != len(data):
            return None
        return path

    def remember(self, data: bytes, path: str, info: os.stat_result) -> None:
        with self._lock:
            if len(self._files) >= _TWINS_KEPT:
                self._files.pop(next(iter(self._files)))
            self._files[self._key(data)] = (path, info.st_ino, info.st_size, info.st_mtime_ns)


class FileBackend:
    """Objects as files under `root`; see the module docstring for the rules."""

    def __init__(self, root: Path, signer: LocalUrlSigner, *, fsync: bool = False) -> None:
        self._fsync = fsync
        self._root = os.path.abspath(root)
        self._real_root = os.path.realpath(root)
        self._root_prefix = self._real_root.rstrip(os.sep) + os.sep
        self._signer = signer
        self._proc_fd = os.path.isdir("/proc/self/fd")
        self._batches = Batches()
        self._twins = _Twins()

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
        if len(rest.encode()) > _MAX_PATH_BYTES or any(len(p.encode()) > _MAX_NAME_BYTES for p in rest.split("/")):
            shown = uri if len(uri) <= 120 else uri[:120] + "..."
            raise InvalidArgument(
                f"{shown!r}: a name is longer than {_MAX_NAME_BYTES} bytes or the path than {_MAX_PATH_BYTES}",
                field="uri",
            )
        return rest

    def _inside_root(self, real: str) -> bool:
        return real == self._real_root or real.startswith(self._root_prefix)

    def _real_directory(self, directory: str) -> str:
        """The real path of `directory` (symlinks resolved); blocking. A directory that does not exist
        yet resolves through its nearest existing ancestor (what does not exist cannot be a link)."""
        if not self._proc_fd:
            return os.path.realpath(directory)
        missing: list[str] = []
        while True:
            try:
                fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            except FileNotFoundError:
                parent, name = os.path.split(directory)
                if parent == directory:
                    return os.path.realpath(os.path.join(directory, *reversed(missing)))
                missing.append(name)
                directory = parent
                continue
            except OSError:  # not a directory, or not ours to open: let the walk say what it is
                return os.path.realpath(os.path.join(directory, *reversed(missing)))
            try:
                real = os.readlink(f"/proc/self/fd/{fd}")
            finally:
                os.close(fd)
            return os.path.join(real, *reversed(missing)) if missing else real

    def _object_path(self, uri: str) -> str:
        """The real path of the object `uri` names; blocking (resolves symlinks)."""
        if uri.endswith("/"):
            raise InvalidArgument(f"{uri!r} names no object", field="uri")
        directory, name = os.path.split(os.path.normpath(self._local_path(uri)))
        real = os.path.join(self._real_directory(directory), name)
        if os.path.islink(real):
            real = os.path.realpath(real)
        if not self._inside_root(real):
            raise InvalidArgument(f"{uri!r} is outside the storage root {self._root}", field="uri")
        if real == self._real_root:
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

    @staticmethod
    def _create_temp(directory: str, twin: str | None = None) -> tuple[str, int]:
        """A new, empty temporary file in `directory` (created with its parents when missing), or with
        `twin` a new hard link to that file (descriptor -1) when the link can be made."""
        made = False
        for _ in range(100):
            temp = os.path.join(directory, f"{TEMP_PREFIX}{_TEMP_SALT}-{next(_TEMP_COUNTER)}")
            if twin is not None:
                try:
                    os.link(twin, temp, follow_symlinks=False)
                    return temp, -1
                except FileExistsError:
                    continue  # a forked copy of this process used the name: take the next
                except FileNotFoundError:
                    if not made and not os.path.isdir(directory):
                        os.makedirs(directory, exist_ok=True)
                        made = True
                        continue
                    twin = None  # the twin is gone: write the bytes
                except OSError:
                    twin = None  # too many links, another device, no links here: write the bytes
            try:
                return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                continue
            except FileNotFoundError:
                if made:
                    raise
                os.makedirs(directory, exist_ok=True)
                made = True
        raise OSError(f"no free temporary name in {directory}")

    def _new_temp(self, uri: str, twin: str | None = None) -> tuple[str, str, int]:
        """(target path, temp path, temp file descriptor) for an atomic write of `uri`; with `twin`,
        the temp name is a hard link to that file when possible, and the descriptor is -1."""
        path = self._object_path(uri)
        try:
            temp, fd = self._create_temp(os.path.dirname(path), twin)
        except (FileExistsError, NotADirectoryError):
            raise InvalidArgument(f"a parent of {uri!r} is an object", field="uri") from None
        return path, temp, fd

    def _open_temp(self, uri: str) -> tuple[str, str, BinaryIO]:
        """(target path, temp path, temp file) for an atomic write of `uri`."""
        path, temp, fd = self._new_temp(uri)
        return path, temp, os.fdopen(fd, "wb")

    def _write_bytes(self, uri: str, data: bytes) -> None:
        """Writes `data` to `uri` atomically with plain system calls (the common small-object case).

        A small object with exactly the bytes of one this backend wrote recently, and which is still
        that same unchanged file, becomes a hard link to it instead of a new file (see `_Twins`)."""
        twin = self._twins.find(data) if len(data) <= _TWIN_MAX else None
        path, temp, fd = self._new_temp(uri, twin)
        if fd < 0:  # linked to its twin
            self._replace(uri, temp, path)
            # When the twin is the object itself, temp and path are two links to one file and rename
            # does nothing at all (POSIX): the temp name would stay behind.
            with contextlib.suppress(FileNotFoundError):
                os.remove(temp)
            return
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self._fsync:
                    os.fsync(fd)
                if len(data) <= _TWIN_MAX:
                    self._twins.remember(data, path, os.fstat(fd))
            finally:
                os.close(fd)
            self._replace(uri, temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temp)
            raise

    @staticmethod
    def _replace(uri: str, temp: str, path: str) -> None:
        try:
            os.replace(temp, path)
        except IsADirectoryError:
            raise InvalidArgument(f"{uri!r} is a directory, not an object", field="uri") from None

    def _read_all(self, uri: str, limit: int) -> bytes:
        with self._open_for_read(uri) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ResourceExhausted(f"{uri} is larger than max_read_bytes ({limit}); stream it")
        return data

    def _commit(self, uri: str, path: str, temp: str, handle: BinaryIO) -> None:
        handle.flush()
        if self._fsync:
            os.fsync(handle.fileno())
        handle.close()
        self._replace(uri, temp, path)

    @staticmethod
    def _discard(temp: str, handle: BinaryIO) -> None:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)

    def _write_with(self, uri: str, fill: Callable[[BinaryIO], None]) -> None:
        path, temp, handle = self._open_temp(uri)
        try:
            fill(handle)
            self._commit(uri, path, temp, handle)
        except BaseException:
            self._discard(temp, handle)
            raise

    def _copy_small(self, uri: str, path: str | os.PathLike[str]) -> bool:
        """Writes the local file `path` to `uri` as `_write_bytes` writes bytes, if it is small enough to be batched
        (a task's log, mostly); False, with nothing written, for a larger one."""
        try:
            with open(path, "rb") as source:
                data = source.read(_BATCHED_WRITE + 1)
        except FileNotFoundError:
            raise NotFound(f"local file {os.fspath(path)} does not exist", field="path") from None
        if len(data) > _BATCHED_WRITE:
            return False
        self._write_bytes(uri, data)
        return True

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

    async def read(self, uri: str, limit: int, chunk_size: int) -> bytes:
        return await self._batches.run(lambda: self._read_all(uri, limit))

    async def write(self, uri: str, data: bytes) -> None:
        if len(data) <= _BATCHED_WRITE and not self._fsync:  # an fsync each: better spread over threads
            await self._batches.run(lambda: self._write_bytes(uri, data))
        else:
            await asyncio.to_thread(self._write_bytes, uri, data)

    async def write_stream(self, uri: str, chunks: AsyncIterable[bytes]) -> None:
        path, temp, handle = await asyncio.to_thread(self._open_temp, uri)
        try:
            async for block in rechunk(chunks, _WRITE_BLOCK):
                await asyncio.to_thread(handle.write, block)
                del block
            await asyncio.to_thread(self._commit, uri, path, temp, handle)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self._discard, temp, handle))
            raise

    async def write_file(self, uri: str, path: str | os.PathLike[str]) -> None:
        if not self._fsync and await self._batches.run(lambda: self._copy_small(uri, path)):
            return

        def fill(handle: BinaryIO) -> None:
            try:
                source = open(path, "rb")  # noqa: SIM115 -- closed just below
            except FileNotFoundError:
                raise NotFound(f"local file {os.fspath(path)} does not exist", field="path") from None
            with source:
                shutil.copyfileobj(source, handle, _WRITE_BLOCK)

        await asyncio.to_thread(self._write_with, uri, fill)

    async def exists(self, uri: str) -> bool:
        return await self._batches.run(lambda: os.path.isfile(self._object_path(uri)))

    async def exist(self, uris: Sequence[str]) -> list[bool]:
        return await self._batches.run(lambda: [os.path.isfile(self._object_path(uri)) for uri in uris])

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
                head = source.read(_WRITE_BLOCK)
                if len(head) < _WRITE_BLOCK:
                    self._write_bytes(dst, head)
                    return

                def fill(handle: BinaryIO) -> None:
                    handle.write(head)
                    shutil.copyfileobj(source, handle, _WRITE_BLOCK)

                self._write_with(dst, fill)

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
