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
"""

from __future__ import annotations

import posixpath

from flyteidl_py.core import literals_pb2, types_pb2
from flyteplane.errors import FlyteplaneError
from flyteplane.storage import Storage, join

MULTIPART = types_pb2.BlobType.MULTIPART


class UploadedDirectories:
    """Rewrites the inputs of an execution so that uploaded one-file directories name their directory."""

    def __init__(self, storage: Storage, upload_prefix: str) -> None:
        self.storage = storage
        self.root = join(storage.default_prefix, upload_prefix) + "/"
        # The data proxy hands out plain paths on the local store (see DataProxy.create_upload_location).
        self.local_root = self.root.removeprefix("file://") if self.root.startswith("file://") else None

    def _store_uri(self, uri: str) -> str | None:
        """The store URI of an upload the literal names, or None when it names no upload."""
        if uri.startswith(self.root):
            return uri
        if self.local_root is not None and uri.startswith(self.local_root):
            return "file://" + uri
        return None

    async def _named_file(self, blob: literals_pb2.Blob) -> bool:
        if blob.metadata.type.dimensionality != MULTIPART:
            return False
        uri = self._store_uri(blob.uri)
        # `<root>/<file>` at least, below <project>/<domain>: anything shallower is not a flytekit upload.
        if uri is None or uri.removeprefix(self.root).count("/") < 3:
            return False
        try:
            return await self.storage.exists(uri)
        except FlyteplaneError:  # a URI the store refuses: whatever it names, the input stays as the client sent it
            return False

    async def _fix(self, literal: literals_pb2.Literal) -> bool:
        changed = False
        if literal.HasField("scalar") and literal.scalar.HasField("blob"):
            blob = literal.scalar.blob
            if await self._named_file(blob):
                blob.uri = posixpath.dirname(blob.uri.rstrip("/"))
                changed = True
        elif literal.HasField("collection"):
            for item in literal.collection.literals:
                changed = await self._fix(item) or changed
        elif literal.HasField("map"):
            for item in literal.map.literals.values():
                changed = await self._fix(item) or changed
        return changed

    async def rewrite(self, inputs: literals_pb2.LiteralMap) -> literals_pb2.LiteralMap:
        """`inputs`, or a copy in which every uploaded one-file directory names its directory."""
        copy = literals_pb2.LiteralMap()
        copy.CopyFrom(inputs)
        changed = False
        for literal in copy.literals.values():
            changed = await self._fix(literal) or changed
        return copy if changed else inputs
