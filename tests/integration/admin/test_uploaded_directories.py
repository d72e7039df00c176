"""An execution input naming a directory of one uploaded file names that upload's directory (admin.managers.uploads)."""

from __future__ import annotations

from pathlib import Path

import msgpack
from google.protobuf import json_format, struct_pb2

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
    plain = root.removeprefix("file://")  # what the data proxy handed out on the local store before local://
    local = "local" + root.removeprefix("file")  # what it hands out now
    inputs = literals_pb2.LiteralMap(
        literals={
            "d": _blob(f"{plain}/only.txt", MULTIPART),
            "local": _blob(f"{local}/only.txt", MULTIPART),
            "uri": _blob(f"{root}/only.txt", MULTIPART),
            "nested": literals_pb2.Literal(
                collection=literals_pb2.LiteralCollection(literals=[_blob(f"{plain}/only.txt", MULTIPART)])
            ),
            "f": _blob(f"{plain}/only.txt", SINGLE),
        }
    )
    rewritten = await UploadedDirectories(storage, "uploads").rewrite(inputs)
    assert rewritten.literals["d"].scalar.blob.uri == plain
    assert rewritten.literals["local"].scalar.blob.uri == local
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


def _shelf_type() -> types_pb2.LiteralType:
    """A dataclass type as flytekit declares it: each field's own type under structure.dataclass_type."""
    directory = types_pb2.LiteralType(blob=types_pb2.BlobType(dimensionality=MULTIPART))
    file = types_pb2.LiteralType(blob=types_pb2.BlobType(dimensionality=SINGLE))
    inner = types_pb2.LiteralType(simple=types_pb2.STRUCT)
    inner.structure.dataclass_type["d"].CopyFrom(directory)
    shelf = types_pb2.LiteralType(simple=types_pb2.STRUCT)
    shelf.structure.dataclass_type["books"].CopyFrom(directory)
    shelf.structure.dataclass_type["note"].CopyFrom(file)
    shelf.structure.dataclass_type["more"].CopyFrom(types_pb2.LiteralType(collection_type=inner))
    return shelf


async def test_a_dataclass_holding_a_directory_of_one_uploaded_file_names_its_directory(tmp_path: Path) -> None:
    storage = Storage(StorageConfig(local_root=tmp_path / "store"))
    root = "local" + (await _uploaded(storage, "only.txt")).removeprefix("file")
    value = {
        "label": "x",
        "books": {"path": f"{root}/only.txt"},
        "note": {"path": f"{root}/only.txt"},
        "more": [{"d": {"path": f"{root}/only.txt"}}],
    }
    packed = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=msgpack.packb(value), tag="msgpack"))
    )
    generic = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(generic=json_format.ParseDict(value, struct_pb2.Struct()))
    )
    inputs = literals_pb2.LiteralMap(literals={"packed": packed, "generic": generic})
    types = {"packed": _shelf_type(), "generic": _shelf_type()}

    rewritten = await UploadedDirectories(storage, "uploads").rewrite(inputs, types)

    expected = {**value, "books": {"path": root}, "more": [{"d": {"path": root}}]}  # the file stays a file
    assert msgpack.unpackb(rewritten.literals["packed"].scalar.binary.value) == expected
    assert json_format.MessageToDict(rewritten.literals["generic"].scalar.generic) == expected
    assert await UploadedDirectories(storage, "uploads").rewrite(inputs) is inputs  # untyped: nothing to go by
