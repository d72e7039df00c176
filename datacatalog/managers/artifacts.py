"""CreateArtifact, GetArtifact, ListArtifacts and UpdateArtifact.

Data values go to the object store before the rows that name them are committed; a request that
fails afterwards deletes what it wrote, and an update deletes the values it replaced only once
its rows are committed. Readers that meet a value replaced under them read the rows again.
"""

from __future__ import annotations

from datacatalog import lists, transform, validation
from datacatalog.data_store import ArtifactDataGone
from datacatalog.keys import ArtifactHandle, DatasetKey
from datacatalog.managers.context import CatalogManager
from datacatalog.models import Artifact, Dataset
from datacatalog.repositories import artifacts, datasets
from datacatalog.repositories.artifacts import ArtifactParts
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import AlreadyExists, Internal

# Reads retry this often when a concurrent update replaces the data they are loading.
_READ_ATTEMPTS = 3


class ArtifactManager(CatalogManager):
    async def create(self, request: dc.CreateArtifactRequest) -> dc.CreateArtifactResponse:
        if not request.HasField("artifact"):
            raise validation.missing("artifact")
        artifact = request.artifact
        key = validation.dataset_key(artifact.dataset, "artifact.dataset", present=artifact.HasField("dataset"))
        artifact_id = validation.text(artifact.id, "artifact.id", label="artifactID")
        data = validation.artifact_data(artifact.data, "artifact.data")
        metadata = transform.metadata_bytes(validation.metadata(artifact.metadata, "artifact.metadata"))
        async with self.ctx.db.session() as session:
            dataset = await datasets.get(session, key, field="artifact.dataset")
            keys = (await datasets.partition_keys(session, [dataset.id]))[dataset.id]
            partitions = validation.partitions(artifact.partitions, keys, "artifact.partitions")
            if await artifacts.exists_with_id(session, dataset, artifact_id):
                raise AlreadyExists(f"artifact {artifact_id} already exists in the dataset", field="artifact.id")
        written = await self.ctx.store.put(key, artifact_id, data)
        try:
            async with self.ctx.db.session() as session:
                dataset = await datasets.get(session, key, field="artifact.dataset")
                await artifacts.create(session, dataset, artifact_id, metadata, written, partitions)
        except BaseException:
            await self.ctx.store.delete(location for _, location in written)
            raise
        return dc.CreateArtifactResponse()

    async def get(self, request: dc.GetArtifactRequest) -> dc.GetArtifactResponse:
        key, handle = validation.artifact_handle(request)
        for _ in range(_READ_ATTEMPTS):
            async with self.ctx.db.session() as session:
                dataset = await datasets.get(session, key)
                record = await artifacts.get(session, dataset, handle)
                found = (await artifacts.parts(session, [record.id]))[record.id]
            try:
                return dc.GetArtifactResponse(artifact=await self._message(record, dataset, found))
            except ArtifactDataGone:
                continue
        raise Internal(f"the data of artifact {handle} is missing from the object store")

    async def list(self, request: dc.ListArtifactsRequest) -> dc.ListArtifactsResponse:
        key = validation.dataset_key(request.dataset, "dataset", present=request.HasField("dataset"))
        filters = lists.artifact_filters(request.filter)
        page = lists.page(request.pagination, request.HasField("pagination"))
        for _ in range(_READ_ATTEMPTS):
            async with self.ctx.db.session() as session:
                dataset = await datasets.get(session, key)
                records = await artifacts.list_page(session, dataset, filters, page)
                found = await artifacts.parts(session, [record.id for record in records])
            try:
                messages = [await self._message(record, dataset, found[record.id]) for record in records]
            except ArtifactDataGone:
                continue
            return dc.ListArtifactsResponse(artifacts=messages, next_token=page.next_token(len(records)))
        raise Internal("the data of a listed artifact is missing from the object store")

    async def update(self, request: dc.UpdateArtifactRequest) -> dc.UpdateArtifactResponse:
        key, handle = validation.artifact_handle(request)
        data = validation.artifact_data(request.data, "data")
        metadata = transform.metadata_bytes(validation.metadata(request.metadata, "metadata"))
        artifact_id = await self._artifact_id(key, handle)
        written = await self.ctx.store.put(key, artifact_id, data)
        try:
            async with self.ctx.db.session() as session:
                dataset = await datasets.get(session, key)
                record = await artifacts.get(session, dataset, ArtifactHandle(artifact_id=artifact_id), for_update=True)
                replaced = await artifacts.replace_data(session, record, metadata, written)
        except BaseException:
            await self.ctx.store.delete(location for _, location in written)
            raise
        await self.ctx.store.delete(replaced)
        return dc.UpdateArtifactResponse(artifact_id=artifact_id)

    async def _artifact_id(self, key: DatasetKey, handle: ArtifactHandle) -> str:
        """The id of the artifact the handle names now (NOT_FOUND before anything is written)."""
        async with self.ctx.db.session() as session:
            dataset = await datasets.get(session, key)
            return (await artifacts.get(session, dataset, handle)).artifact_id

    async def _message(self, record: Artifact, dataset: Dataset, found: ArtifactParts) -> dc.Artifact:
        if not found.data:
            raise Internal(f"artifact {record.artifact_id} does not have artifact data associated")
        data = await self.ctx.store.get_all(found.data)
        return transform.artifact(record, dataset, data, found.partitions, found.tag_names)
