"""Storage's object operations behave the same on file://, s3:// (moto) and gs:// (GCS emulator)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import literals_pb2
from flyteplane.errors import InvalidArgument, NotFound, ResourceExhausted
from flyteplane.storage import ObjectInfo, Storage, join
from tests.integration.flyteplane.storage.conftest import BACKENDS


def _literal_map() -> literals_pb2.LiteralMap:
    literals = literals_pb2.LiteralMap()
    literals.literals["x"].scalar.primitive.integer = 42
    literals.literals["name"].scalar.primitive.string_value = "flyte"
    return literals


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _listed(storage: Storage, prefix: str) -> list[ObjectInfo]:
    return [info async for info in storage.list(prefix)]


async def test_bytes_written_are_read_back(storage: Storage, base: str) -> None:
    uri = join(base, "dir", "data.bin")
    await storage.write(uri, b"hello \x00 world")
    assert await storage.read(uri) == b"hello \x00 world"


async def test_empty_object_round_trips(storage: Storage, base: str) -> None:
    uri = join(base, "empty")
    await storage.write(uri, b"")
    assert await storage.read(uri) == b""
    assert (await storage.head(uri)).size == 0


async def test_write_replaces_the_previous_object(storage: Storage, base: str) -> None:
    uri = join(base, "data")
    await storage.write(uri, b"first version, longer")
    await storage.write(uri, b"second")
    assert await storage.read(uri) == b"second"


async def test_protobuf_message_round_trips(storage: Storage, base: str) -> None:
    uri = join(base, "inputs.pb")
    await storage.write_proto(uri, _literal_map())
    assert await storage.read_proto(uri, literals_pb2.LiteralMap) == _literal_map()


async def test_reading_garbage_as_a_protobuf_is_invalid_argument(storage: Storage, base: str) -> None:
    uri = join(base, "not-a-proto")
    await storage.write(uri, b"\xff\xff\xff")
    with pytest.raises(InvalidArgument, match=r"does not hold a flyteidl\.core\.LiteralMap"):
        await storage.read_proto(uri, literals_pb2.LiteralMap)


async def test_read_of_missing_object_is_not_found(storage: Storage, base: str) -> None:
    with pytest.raises(NotFound):
        await storage.read(join(base, "missing"))


async def test_read_stream_of_missing_object_is_not_found(storage: Storage, base: str) -> None:
    with pytest.raises(NotFound):
        async for _ in storage.read_stream(join(base, "missing")):
            pass


async def test_head_of_missing_object_is_not_found(storage: Storage, base: str) -> None:
    with pytest.raises(NotFound):
        await storage.head(join(base, "missing"))


async def test_exists_tells_whether_an_object_is_there(storage: Storage, base: str) -> None:
    uri = join(base, "a", "b")
    assert not await storage.exists(uri)
    await storage.write(uri, b"x")
    assert await storage.exists(uri)
    assert not await storage.exists(join(base, "a"))  # a "directory" is not an object


async def test_head_reports_size_and_md5(storage: Storage, base: str) -> None:
    uri = join(base, "data")
    data = b"some content" * 1000
    await storage.write(uri, data)
    assert await storage.head(uri) == ObjectInfo(uri, len(data), hashlib.md5(data).digest())


async def test_list_yields_every_object_under_a_prefix_recursively_in_order(storage: Storage, base: str) -> None:
    for key in ("run/b", "run/a/2", "run/a/1", "run/a.txt", "other/x", "runaway"):
        await storage.write(join(base, key), key.encode())
    listed = await _listed(storage, join(base, "run") + "/")
    assert listed == [
        ObjectInfo(join(base, "run/a.txt"), 9),
        ObjectInfo(join(base, "run/a/1"), 7),
        ObjectInfo(join(base, "run/a/2"), 7),
        ObjectInfo(join(base, "run/b"), 5),
    ]


async def test_list_prefix_matches_keys_as_strings(storage: Storage, base: str) -> None:
    for key in ("run/a", "runaway/b", "other"):
        await storage.write(join(base, key), b"x")
    listed = [info.uri async for info in storage.list(join(base, "run"))]
    assert listed == [join(base, "run/a"), join(base, "runaway/b")]


async def test_list_of_a_prefix_with_nothing_under_it_is_empty(storage: Storage, base: str) -> None:
    await storage.write(join(base, "elsewhere"), b"x")
    assert await _listed(storage, join(base, "nothing") + "/") == []


async def test_copy_within_a_backend_duplicates_the_object(storage: Storage, base: str) -> None:
    src, dst = join(base, "src"), join(base, "copies", "dst")
    await storage.write(src, b"payload")
    await storage.copy(src, dst)
    assert await storage.read(dst) == b"payload"
    assert await storage.read(src) == b"payload"


async def test_copy_of_a_missing_object_is_not_found(storage: Storage, base: str) -> None:
    with pytest.raises(NotFound):
        await storage.copy(join(base, "missing"), join(base, "dst"))
    assert not await storage.exists(join(base, "dst"))


@pytest.mark.parametrize(
    ("source", "target"),
    [pytest.param(a, b, id=f"{a}-to-{b}") for a in BACKENDS for b in BACKENDS if a != b],
)
async def test_copy_across_backends_duplicates_the_object(
    storage: Storage, new_base: Callable[[str], str], source: str, target: str
) -> None:
    src, dst = join(new_base(source), "src"), join(new_base(target), "deep", "dst")
    data = bytes(range(256)) * 5000
    await storage.write(src, data)
    await storage.copy(src, dst)
    assert await storage.read(dst) == data


async def test_delete_removes_the_object(storage: Storage, base: str) -> None:
    uri = join(base, "doomed")
    await storage.write(uri, b"x")
    await storage.delete(uri)
    assert not await storage.exists(uri)
    with pytest.raises(NotFound):
        await storage.read(uri)


async def test_delete_of_a_missing_object_is_not_found_unless_allowed(storage: Storage, base: str) -> None:
    uri = join(base, "missing")
    with pytest.raises(NotFound):
        await storage.delete(uri)
    await storage.delete(uri, missing_ok=True)


async def test_write_stream_with_the_right_md5_stores_the_object(storage: Storage, base: str) -> None:
    uri = join(base, "checked")
    await storage.write_stream(uri, _chunks(b"abc", b"def"), content_md5=hashlib.md5(b"abcdef").digest())
    assert await storage.read(uri) == b"abcdef"


async def test_write_stream_with_a_wrong_md5_changes_nothing(storage: Storage, base: str) -> None:
    uri = join(base, "checked")
    await storage.write(uri, b"original")
    with pytest.raises(InvalidArgument, match="Content-MD5"):
        await storage.write_stream(uri, _chunks(b"tampered"), content_md5=hashlib.md5(b"other").digest())
    assert await storage.read(uri) == b"original"


async def test_a_stream_that_fails_midway_stores_nothing(storage: Storage, base: str) -> None:
    """Fails after 20 MiB, past the first multipart part / resumable chunk of the cloud backends."""
    uri = join(base, "broken")

    async def failing() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * (1024 * 1024)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.write_stream(uri, failing())
    assert not await storage.exists(uri)
    assert await _listed(storage, base + "/") == []


async def test_write_file_stores_a_local_file(storage: Storage, base: str, tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    data = b"0123456789abcdef" * 40_000
    local.write_bytes(data)
    uri = join(base, "uploaded")
    await storage.write_file(uri, local)
    assert await storage.read(uri) == data
    assert (await storage.head(uri)).md5 == hashlib.md5(data).digest()


async def test_write_file_of_a_missing_local_file_is_not_found(storage: Storage, base: str, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        await storage.write_file(join(base, "uploaded"), tmp_path / "absent")


async def test_read_beyond_max_read_bytes_is_resource_exhausted(storage: Storage, base: str) -> None:
    small = Storage(storage.config.model_copy(update={"max_read_bytes": 1000}))
    uri = join(base, "big")
    await storage.write(uri, b"x" * 1001)
    with pytest.raises(ResourceExhausted):
        await small.read(uri)


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "a/./b", "./a"])
async def test_dot_segments_are_refused(storage: Storage, base: str, key: str) -> None:
    with pytest.raises(InvalidArgument):
        await storage.write(f"{base}/{key}", b"x")
    with pytest.raises(InvalidArgument):
        await storage.read(f"{base}/{key}")


async def test_a_failed_s3_stream_leaves_no_multipart_upload_behind(
    storage: Storage, new_base: Callable[[str], str], s3_client: Any
) -> None:
    base = new_base("s3")

    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * (12 * 1024 * 1024)  # more than two parts
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.write_stream(join(base, "broken"), failing())
    uploads = s3_client.list_multipart_uploads(Bucket=base.removeprefix("s3://"))
    assert uploads.get("Uploads", []) == []
