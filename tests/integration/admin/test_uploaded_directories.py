"""An execution input naming a directory of one uploaded file names that upload's directory (admin.managers.uploads)."""

from __future__ import annotations

from pathlib import Path

from admin.managers.uploads import UploadedDirectories
from flyteidl_py.core import literals_pb2, types_pb2
from flyteplane.storage import Storage, StorageConfig, join

SINGLE, MULTIPART = types_pb2.BlobType.SINGLE, types_pb2.BlobType.MULTIPART


def _blob(uri: str, dimensionality: types_pb2.BlobType.BlobDimensionality.ValueType) -> literals_pb2.Literal:
    kind = types_pb2.BlobType(format="", dimensionality=dimensionality)
    blob = literals_pb2.Blob(metadata=literals_pb2.BlobMetadata(type=kind), uri=uri)
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=blob))


async def _uploaded(storage: Storage, *names: str) -> str:
    root = join(storage.default_prefix, "uploads", "p", "d", "ROOT")
    for name in names:
        await storage.write(join(root, name), name.encode())
    return root


async def test_a_directory_naming_one_uploaded_file_names_its_directory(tmp_path: Path) -> None:
    storage = Storage(StorageConfig(local_root=tmp_path / "store"))
    root = await _uploaded(storage, "only.txt")
    plain = root.removeprefix("file://")  # what the data proxy hands out on the local store
    inputs = literals_pb2.LiteralMap(
        literals={
            "d": _blob(f"{plain}/only.txt", MULTIPART),
            "uri": _blob(f"{root}/only.txt", MULTIPART),
            "nested": literals_pb2.Literal(
                collection=literals_pb2.LiteralCollection(literals=[_blob(f"{plain}/only.txt", MULTIPART)])
            ),
            "f": _blob(f"{plain}/only.txt", SINGLE),
        }
    )
    rewritten = await UploadedDirectories(storage, "uploads").rewrite(inputs)
    assert rewritten.literals["d"].scalar.blob.uri == plain
    assert rewritten.literals["uri"].scalar.blob.uri == root
    assert rewritten.literals["nested"].collection.literals[0].scalar.blob.uri == plain
    assert rewritten.literals["f"].scalar.blob.uri == f"{plain}/only.txt"  # a file stays a file
    assert inputs.literals["d"].scalar.blob.uri == f"{plain}/only.txt"  # the request is not changed


async def test_directories_and_data_outside_the_uploads_are_left_alone(tmp_path: Path) -> None:
    storage = Storage(StorageConfig(local_root=tmp_path / "store"))
    root = await _uploaded(storage, "a.txt", "b.txt")
    elsewhere = join(storage.default_prefix, "raw", "x", "y", "z", "file")
    await storage.write(elsewhere, b"x")
    inputs = literals_pb2.LiteralMap(
        literals={
            "several": _blob(root, MULTIPART),
            "raw": _blob(elsewhere, MULTIPART),
            "gone": _blob(f"{root}/c", MULTIPART),
            "odd": _blob(f"{root}/../../x/y", MULTIPART),
        }
    )
    assert await UploadedDirectories(storage, "uploads").rewrite(inputs) is inputs
