"""The file:// store keeps every object inside its root and replaces objects atomically."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from flyteplane.errors import InvalidArgument
from flyteplane.storage import Storage, join


@pytest.fixture
def local_base(new_base: Callable[[str], str]) -> str:
    return new_base("file")


def _directory(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("file:///etc/passwd", id="absolute-outside"),
        pytest.param("local:///etc/passwd", id="local-alias-outside"),
        pytest.param("file://relative/path", id="relative"),
        pytest.param("file:relative", id="no-slashes"),
        pytest.param("/no/scheme", id="no-scheme"),
        pytest.param("ftp://host/x", id="other-scheme"),
    ],
)
async def test_uris_that_do_not_name_a_place_inside_the_root_are_refused(storage: Storage, uri: str) -> None:
    with pytest.raises(InvalidArgument):
        await storage.read(uri)
    with pytest.raises(InvalidArgument):
        await storage.write(uri, b"x")


async def test_dot_dot_out_of_the_root_is_refused(storage: Storage) -> None:
    root = storage.config.local_root.as_posix()
    with pytest.raises(InvalidArgument):
        await storage.write(f"file://{root}/../escaped", b"x")
    assert not (storage.config.local_root.parent / "escaped").exists()


async def test_the_root_itself_is_not_an_object(storage: Storage) -> None:
    with pytest.raises(InvalidArgument):
        await storage.write(f"file://{storage.config.local_root.as_posix()}", b"x")


async def test_symlinks_out_of_the_root_are_refused(storage: Storage, local_base: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    _directory(local_base).mkdir(parents=True)
    (_directory(local_base) / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidArgument):
        await storage.read(join(local_base, "link", "secret"))
    with pytest.raises(InvalidArgument):
        await storage.write(join(local_base, "link", "planted"), b"x")
    assert not (outside / "planted").exists()
    assert [info async for info in storage.list(local_base)] == []


async def test_local_uris_name_the_same_objects_as_file_uris(storage: Storage, local_base: str) -> None:
    # the data proxy names a local store's uploads local:// (admin.managers.dataproxy.native_url)
    alias = "local" + local_base.removeprefix("file")
    await storage.write(join(local_base, "x"), b"data")
    assert await storage.read(f"{alias}/x") == b"data"
    assert [info.uri async for info in storage.list(f"{alias}/")] == [join(local_base, "x")]
    with pytest.raises(InvalidArgument):
        await storage.read(f"{alias}/../../escaped")


async def test_localhost_file_uris_name_the_same_object(storage: Storage, local_base: str) -> None:
    await storage.write(join(local_base, "x"), b"data")
    assert await storage.read(local_base.replace("file://", "file://localhost", 1) + "/x") == b"data"


async def test_a_reader_sees_the_old_object_until_a_write_completes(storage: Storage, local_base: str) -> None:
    uri = join(local_base, "object")
    await storage.write(uri, b"old")
    halfway = asyncio.Event()
    finish = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"new " * (1024 * 1024)  # more than one write block, so part of it reaches the disk
        halfway.set()
        await finish.wait()
        yield b"end"

    writer = asyncio.create_task(storage.write_stream(uri, slow()))
    await halfway.wait()
    await asyncio.sleep(0.05)
    assert await storage.read(uri) == b"old"
    assert [info.uri async for info in storage.list(local_base)] == [uri]  # the temp file is not listed
    finish.set()
    await writer
    assert (await storage.head(uri)).size == 4 * 1024 * 1024 + 3


async def test_a_failed_write_leaves_no_file_behind(storage: Storage, local_base: str) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * (3 * 1024 * 1024)
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await storage.write_stream(join(local_base, "dir", "object"), failing())
    assert os.listdir(_directory(local_base) / "dir") == []


async def test_files_are_written_readable_by_other_processes(storage: Storage, local_base: str) -> None:
    uri = join(local_base, "object")
    await storage.write(uri, b"x")
    assert (_directory(uri).stat().st_mode & 0o777) == 0o644


async def test_identical_small_objects_share_one_file_and_stay_independent(storage: Storage, local_base: str) -> None:
    # A fan-out writes the same inputs.pb thousands of times: the second and later copies are hard
    # links to the first (no new inode each), yet every object behaves as a file of its own.
    uris = [join(local_base, f"n{i}", "data", "inputs.pb") for i in range(4)]
    await asyncio.gather(*(storage.write(uri, b"same bytes") for uri in uris))
    paths = [_directory(uri) for uri in uris]
    assert len({p.stat().st_ino for p in paths}) < len(paths)
    assert [await storage.read(uri) for uri in uris] == [b"same bytes"] * 4

    await storage.write(uris[0], b"new bytes")  # replacing one leaves the others as they were
    await storage.delete(uris[1])
    assert await storage.read(uris[0]) == b"new bytes"
    assert [await storage.read(uri) for uri in uris[2:]] == [b"same bytes"] * 2
    assert not await storage.exists(uris[1])


async def test_a_file_changed_in_place_is_not_shared_by_later_writes(storage: Storage, local_base: str) -> None:
    first = join(local_base, "a", "outputs.pb")
    await storage.write(first, b"12345")
    with _directory(first).open("ab") as handle:  # someone edits the object in place
        handle.write(b"6")
    second = join(local_base, "b", "outputs.pb")
    await storage.write(second, b"12345")
    assert await storage.read(second) == b"12345"
    assert _directory(first).stat().st_ino != _directory(second).stat().st_ino
    assert await storage.read(first) == b"123456"


async def test_writing_the_same_bytes_to_an_object_again_leaves_no_temporary_name(
    storage: Storage, local_base: str
) -> None:
    uri = join(local_base, "again", "outputs.pb")
    for _ in range(3):
        await storage.write(uri, b"the same bytes")
    assert await storage.read(uri) == b"the same bytes"
    assert sorted(p.name for p in _directory(uri).parent.iterdir()) == ["outputs.pb"]


@pytest.mark.parametrize("name", ["n" * 10_000, "/".join(["d" * 200] * 25)], ids=["long-name", "long-path"])
async def test_names_longer_than_the_file_system_takes_are_invalid_arguments(
    storage: Storage, local_base: str, name: str
) -> None:
    uri = join(local_base, name)
    with pytest.raises(InvalidArgument) as refused:
        await storage.write(uri, b"x")
    assert refused.value.field == "uri"
    with pytest.raises(InvalidArgument):
        await storage.read(uri)
    assert not list(_directory(local_base).iterdir()) if _directory(local_base).exists() else True
