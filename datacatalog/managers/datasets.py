"""CreateDataset, GetDataset and ListDatasets."""

from __future__ import annotations

from datacatalog import lists, transform, validation
from datacatalog.managers.context import CatalogManager
from datacatalog.repositories import datasets
from flyteidl_py.datacatalog import datacatalog_pb2 as dc


class DatasetManager(CatalogManager):
    async def create(self, request: dc.CreateDatasetRequest) -> dc.CreateDatasetResponse:
        if not request.HasField("dataset"):
            raise validation.missing("dataset")
        dataset = request.dataset
        key = validation.dataset_key(dataset.id, "dataset.id", present=dataset.HasField("id"))
        keys = validation.partition_keys(dataset.partitionKeys, "dataset.partitionKeys")
        metadata = validation.metadata(dataset.metadata, "dataset.metadata")
        async with self.ctx.db.session() as session:
            await datasets.create(session, key, transform.metadata_bytes(metadata), keys)
        return dc.CreateDatasetResponse()

    async def get(self, request: dc.GetDatasetRequest) -> dc.GetDatasetResponse:
        key = validation.dataset_key(request.dataset, "dataset", present=request.HasField("dataset"))
        async with self.ctx.db.session() as session:
            record = await datasets.get(session, key)
            keys = await datasets.partition_keys(session, [record.id])
        return dc.GetDatasetResponse(dataset=transform.dataset(record, keys[record.id]))

    async def list(self, request: dc.ListDatasetsRequest) -> dc.ListDatasetsResponse:
        filters = lists.dataset_filters(request.filter)
        page = lists.page(request.pagination, request.HasField("pagination"))
        async with self.ctx.db.session() as session:
            records = await datasets.list_page(session, filters, page)
            keys = await datasets.partition_keys(session, [record.id for record in records])
        return dc.ListDatasetsResponse(
            datasets=[transform.dataset(record, keys[record.id]) for record in records],
            next_token=page.next_token(len(records)),
        )
