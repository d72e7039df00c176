"""AddTag: point a tag name of a dataset at one of its artifacts."""

from __future__ import annotations

from datacatalog import validation
from datacatalog.keys import ArtifactHandle
from datacatalog.managers.context import CatalogManager
from datacatalog.repositories import artifacts, datasets, tags
from flyteidl_py.datacatalog import datacatalog_pb2 as dc


class TagManager(CatalogManager):
    async def add(self, request: dc.AddTagRequest) -> dc.AddTagResponse:
        if not request.HasField("tag"):
            raise validation.missing("tag")
        tag = request.tag
        key = validation.dataset_key(tag.dataset, "tag.dataset", present=tag.HasField("dataset"))
        name = validation.text(tag.name, "tag.name", label="tagName")
        artifact_id = validation.text(tag.artifact_id, "tag.artifact_id", label="artifactID")
        async with self.ctx.db.session() as session:
            dataset = await datasets.get(session, key, field="tag.dataset")
            artifact = await artifacts.get(session, dataset, ArtifactHandle(artifact_id=artifact_id))
            await tags.add(session, dataset, name, artifact)
        return dc.AddTagResponse()
