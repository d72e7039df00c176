"""Directories a client uploaded through the data proxy, named as directories in an execution's inputs.

flytekit (1.16) uploads a local directory file by file through CreateUploadLocation, all under one
prefix derived from the files' contents (`<uploads>/<project>/<domain>/<root>/<file name>`), and
puts the longest common prefix of the objects it got back in the FlyteDirectory literal. For a
directory of one file that prefix is the file's own object, so the task would be handed a file
where it expects a directory: flytekit refuses a local path that is not a directory, and from
S3 or GCS it downloads the object *into* the directory path, where fsspec drops it -- the task
sees an empty directory (measured with moto and the GCS emulator, as on a Flyte sandbox).

A multipart blob input that names an object under the upload prefix is therefore a directory of
one upload: CreateExecution names its `<root>` prefix instead, which holds exactly the uploaded
directory's files on every store. Directories of several files already name `<root>`.

A dataclass (or Pydantic model) holds its directories as `{"path": <uri>}` inside a msgpack binary
or a generic Struct, where only the input's type tells a directory from a file: its
`structure.dataclass_type` names each field's type, so those are rewritten by the same rule.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import cast

import msgpack
from google.protobuf import json_format, struct_pb2

from flyteidl_py.core import literals_pb2, types_pb2
from flyteplane.errors import FlyteplaneError
from flyteplane.storage import Storage, file_uri, join

MULTIPART = types_pb2.BlobType.MULTIPART
MSGPACK = "msgpack"


class UploadedDirectories:
    """Rewrites the inputs of an execution so that uploaded one-file directories name their directory."""

    def __init__(self, storage: Storage, upload_prefix: str) -> None:
        self.storage = storage
        self.root = join(storage.default_prefix, upload_prefix) + "/"
        # The data proxy hands out `local://` URIs on the local store (admin.managers.dataproxy.native_url);
        # clients of older planes may still hold the plain paths it handed out before.
        self.local_root = self.root.removeprefix("file://") if self.root.startswith("file://") else None

    def _store_uri(self, uri: str) -> str | None:
        """The store URI of an upload the literal names, or None when it names no upload."""
        uri = file_uri(uri)
        if uri.startswith(self.root):
            return uri
        if self.local_root is not None and uri.startswith(self.local_root):
            return "file://" + uri
        return None

    async def _names_file(self, uri: str) -> bool:
        uri_in_store = self._store_uri(uri)
        # `<root>/<file>` at least, below <project>/<domain>: anything shallower is not a flytekit upload.
        if uri_in_store is None or uri_in_store.removeprefix(self.root).count("/") < 3:
            return False
        try:
            return await self.storage.exists(uri_in_store)
        except FlyteplaneError:  # a URI the store refuses: whatever it names, the input stays as the client sent it
            return False

    async def _fix(self, literal: literals_pb2.Literal, kind: types_pb2.LiteralType | None) -> bool:
        changed = False
        if literal.HasField("scalar"):
            scalar = literal.scalar
            if scalar.HasField("blob"):
                blob = scalar.blob
                if blob.metadata.type.dimensionality == MULTIPART and await self._names_file(blob.uri):
                    blob.uri = posixpath.dirname(blob.uri.rstrip("/"))
                    changed = True
            elif kind is not None and kind.structure.dataclass_type:
                changed = await self._fix_dataclass(scalar, kind)
        elif literal.HasField("collection"):
            item = kind.collection_type if kind is not None and kind.HasField("collection_type") else None
            for element in literal.collection.literals:
                changed = await self._fix(element, item) or changed
        elif literal.HasField("map"):
            value = kind.map_value_type if kind is not None and kind.HasField("map_value_type") else None
            for element in literal.map.literals.values():
                changed = await self._fix(element, value) or changed
        return changed

    async def _fix_dataclass(self, scalar: literals_pb2.Scalar, kind: types_pb2.LiteralType) -> bool:
        if scalar.HasField("binary") and scalar.binary.tag == MSGPACK:
            try:
                value: object = msgpack.unpackb(scalar.binary.value, raw=False, strict_map_key=False)
            except (ValueError, TypeError):  # not ours to judge: the task reports a malformed value
                return False
            if not await self._fix_value(value, kind):
                return False
            scalar.binary.value = cast("bytes", msgpack.packb(value, use_bin_type=True))
            return True
        if scalar.HasField("generic"):
            plain = json_format.MessageToDict(scalar.generic)
            if not await self._fix_value(plain, kind):
                return False
            scalar.generic.CopyFrom(json_format.ParseDict(plain, struct_pb2.Struct()))
            return True
        return False

    async def _fix_value(self, value: object, kind: types_pb2.LiteralType) -> bool:
        """Rewrites, in place, the directories of a decoded dataclass value as its type describes them."""
        if kind.HasField("blob"):
            if kind.blob.dimensionality != MULTIPART or not isinstance(value, dict):
                return False
            path = value.get("path")
            if isinstance(path, str) and await self._names_file(path):
                value["path"] = posixpath.dirname(path.rstrip("/"))
                return True
            return False
        changed = False
        if kind.structure.dataclass_type and isinstance(value, dict):
            for name, field in kind.structure.dataclass_type.items():
                if name in value:
                    changed = await self._fix_value(value[name], field) or changed
        elif kind.HasField("collection_type") and isinstance(value, list):
            for element in value:
                changed = await self._fix_value(element, kind.collection_type) or changed
        elif kind.HasField("map_value_type") and isinstance(value, dict):
            for element in value.values():
                changed = await self._fix_value(element, kind.map_value_type) or changed
        elif kind.HasField("union_type"):
            for variant in kind.union_type.variants:
                if await self._fix_value(value, variant):
                    return True
        return changed

    async def rewrite(
        self, inputs: literals_pb2.LiteralMap, types: Mapping[str, types_pb2.LiteralType] | None = None
    ) -> literals_pb2.LiteralMap:
        """`inputs`, or a copy in which every uploaded one-file directory names its directory; `types`
        (the inputs' declared types, by name) lets it find those inside dataclasses too."""
        copy = literals_pb2.LiteralMap()
        copy.CopyFrom(inputs)
        changed = False
        for name, literal in copy.literals.items():
            kind = types.get(name) if types is not None else None
            changed = await self._fix(literal, kind) or changed
        return copy if changed else inputs
