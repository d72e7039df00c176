"""Artifact data in the object store: one serialized core.Literal per (artifact, data name).

Layout: `<prefix>/<project>/<domain>/<dataset name>/<version>/<artifact id>/<write id>/<data name>/data.pb`,
Flyte's layout plus a `write id` segment that is fresh for every CreateArtifact and UpdateArtifact.
With it, a request that loses a race (a duplicate create, a concurrent update) never overwrites
the data another request committed: the database row names the objects that count, and objects a
failed request wrote are deleted again. Path segments are percent-encoded so that user strings
cannot add or climb directories.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from datacatalog.keys import DatasetKey
from flyteidl_py.core import literals_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import Internal, InvalidArgument, NotFound, Unavailable
from flyteplane.storage import Storage

log = logging.getLogger("flyteplane.datacatalog")

_MAX_SEGMENT = 100


class ArtifactDataGone(Exception):
    """An object a database row names is missing: a concurrent update replaced it, or it was lost."""


def _segment(value: str) -> str:
    """One path segment for a user string: percent-encoded, never `.`/`..`, and short enough for any
    file system (long values keep a readable head and a digest of the whole)."""
    quoted = quote(value, safe="")
    if quoted in (".", ".."):
        return quoted.replace(".", "%2E")
    if len(quoted) > _MAX_SEGMENT:
        return f"{quoted[:64]}~{hashlib.sha256(value.encode()).hexdigest()[:24]}"
    return quoted


@dataclass(frozen=True)
class ArtifactDataStore:
    storage: Storage
    prefix: str  # e.g. file:///root/bucket/datacatalog

    def location(self, dataset: DatasetKey, artifact_id: str, write_id: str, name: str) -> str:
        parts = [dataset.project, dataset.domain, dataset.name, dataset.version, artifact_id, write_id, name]
        return self.storage.join(self.prefix, *map(_segment, parts), "data.pb")

    async def put(
        self, dataset: DatasetKey, artifact_id: str, data: Sequence[dc.ArtifactData]
    ) -> list[tuple[str, str]]:
        """Writes every value; returns (name, location) pairs. On failure nothing written is left behind."""
        write_id = uuid.uuid4().hex
        written: list[tuple[str, str]] = []
        try:
            for item in data:
                location = self.location(dataset, artifact_id, write_id, item.name)
                await self.storage.write_proto(location, item.value)
                written.append((item.name, location))
        except BaseException as exc:
            await self.delete(location for _, location in written)
            if isinstance(exc, Unavailable) or not isinstance(exc, Exception):
                raise  # an unreachable store is retryable; cancellation stays cancellation
            raise Internal(f"failed to store artifact data: {exc}") from exc
        return written

    async def get(self, location: str) -> literals_pb2.Literal:
        try:
            return await self.storage.read_proto(location, literals_pb2.Literal)
        except NotFound as exc:
            raise ArtifactDataGone(location) from exc
        except InvalidArgument as exc:
            raise Internal(f"corrupt artifact data at {location}: {exc.message}") from exc

    async def get_all(self, rows: Iterable[tuple[str, str]]) -> list[dc.ArtifactData]:
        """Loads (name, location) pairs in order."""
        return [dc.ArtifactData(name=name, value=await self.get(location)) for name, location in rows]

    async def delete(self, locations: Iterable[str]) -> None:
        """Best effort: a leftover object costs space, never correctness, so failures are only logged."""
        for location in list(locations):
            try:
                await self.storage.delete(location, missing_ok=True)
            except Exception:
                log.warning("could not delete artifact data %s", location, exc_info=True)
