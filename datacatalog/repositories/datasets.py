"""Queries on datasets and their partition keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from datacatalog.keys import DatasetKey
from datacatalog.lists import DatasetFilters, Page
from datacatalog.models import Dataset, DatasetPartitionKey
from datacatalog.repositories import insert
from flyteplane.errors import NotFound


def _by_key(key: DatasetKey) -> Select[Dataset]:
    return select(Dataset).where(
        Dataset.project == key.project,
        Dataset.name == key.name,
        Dataset.domain == key.domain,
        Dataset.version == key.version,
        Dataset.org == key.org,
    )


async def create(session: AsyncSession, key: DatasetKey, metadata: bytes, partition_keys: Sequence[str]) -> Dataset:
    """Inserts the dataset; ALREADY_EXISTS when its key is taken (also when a concurrent create won)."""
    record = Dataset(uuid=str(uuid.uuid4()), **key.columns(), serialized_metadata=metadata)
    await insert(session, record, f"dataset already exists: {key}", field="dataset.id")
    session.add_all(
        DatasetPartitionKey(dataset_id=record.id, position=position, name=name)
        for position, name in enumerate(partition_keys)
    )
    await session.flush()
    return record


async def find(session: AsyncSession, key: DatasetKey) -> Dataset | None:
    return (await session.execute(_by_key(key))).scalar_one_or_none()


async def get(session: AsyncSession, key: DatasetKey, field: str = "dataset") -> Dataset:
    record = await find(session, key)
    if record is None:
        raise NotFound(f"missing entity of type Dataset with identifier {key}", field=field)
    return record


async def partition_keys(session: AsyncSession, dataset_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each dataset's partition key names, in the order the dataset was created with."""
    keys: dict[int, list[str]] = {dataset_id: [] for dataset_id in dataset_ids}
    if dataset_ids:
        rows = await session.execute(
            select(DatasetPartitionKey.dataset_id, DatasetPartitionKey.name)
            .where(DatasetPartitionKey.dataset_id.in_(dataset_ids))
            .order_by(DatasetPartitionKey.dataset_id, DatasetPartitionKey.position)
        )
        for dataset_id, name in rows:
            keys[dataset_id].append(name)
    return keys


async def list_page(session: AsyncSession, filters: DatasetFilters, page: Page) -> list[Dataset]:
    query = select(Dataset)
    for field, value in filters.equals:
        query = query.where(getattr(Dataset, field) == value)
    order = (
        (Dataset.created_at.asc(), Dataset.id.asc())
        if page.ascending
        else (
            Dataset.created_at.desc(),
            Dataset.id.desc(),
        )
    )
    query = query.order_by(*order).offset(page.offset).limit(page.limit)
    return list((await session.execute(query)).scalars())
