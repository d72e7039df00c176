"""Large objects stream through Storage in bounded chunks, intact, on every backend."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

from flyteplane.storage import Storage, join

MiB = 1024 * 1024
SIZE = 40 * MiB
CHUNK = 256 * 1024


async def _generated(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    """`size` pseudo-random bytes, made chunk by chunk (never held whole), hashed into `digest`."""
    block = hashlib.sha256(b"seed").digest() * (CHUNK // 32)
    for index in range(size // CHUNK):
        chunk = index.to_bytes(8, "big") + block[8:]
        digest.update(chunk)
        yield chunk


async def test_large_object_streams_in_and_out_intact_in_bounded_memory(storage: Storage, base: str) -> None:
    """40 MiB go up from a generator and come back in 1 MiB chunks with the same MD5, while the
    Python heap of this process (uploads included) never holds more than half of the object."""
    uri = join(base, "large.bin")
    warm_up = join(base, "warm-up")  # SDK clients load megabytes of models on first use: not data
    await storage.write(warm_up, b"x")
    await storage.read(warm_up)
    written = hashlib.md5()
    tracemalloc.start()
    try:
        await storage.write_stream(uri, _generated(SIZE, written))
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        read = hashlib.md5()
        sizes = set()
        async for chunk in storage.read_stream(uri, chunk_size=MiB):
            sizes.add(len(chunk))
            read.update(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert read.hexdigest() == written.hexdigest()
    assert max(sizes) <= MiB
    assert (await storage.head(uri)).size == SIZE
    assert upload_peak < SIZE // 2, f"upload held {upload_peak / MiB:.1f} MiB"
    assert download_peak < SIZE // 2, f"download held {download_peak / MiB:.1f} MiB"


async def test_large_local_file_uploads_intact_with_its_md5(storage: Storage, base: str, tmp_path: Path) -> None:
    local = tmp_path / "large.bin"
    digest = hashlib.md5()
    with local.open("wb") as handle:
        async for chunk in _generated(24 * MiB, digest):
            handle.write(chunk)
    uri = join(base, "uploaded.bin")
    await storage.write_file(uri, local)

    info = await storage.head(uri)
    assert (info.size, info.md5) == (24 * MiB, digest.digest())
    read = hashlib.md5()
    async for chunk in storage.read_stream(uri):
        read.update(chunk)
    assert read.digest() == digest.digest()
