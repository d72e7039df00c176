"""Queries on artifacts with their data rows, partition values and tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datacatalog.keys import ArtifactHandle
from datacatalog.lists import ArtifactFilters, Page
from datacatalog.models import Artifact, ArtifactData, Dataset, Partition, Tag
from datacatalog.repositories import insert
from flyteplane.database import utcnow
from flyteplane.errors import NotFound


@dataclass
class ArtifactParts:
    """What an artifact record does not hold itself, each list in creation order."""

    data: list[tuple[str, str]] = field(default_factory=list)  # (name, location)
    partitions: list[tuple[str, str]] = field(default_factory=list)  # (key, value)
    tag_names: list[str] = field(default_factory=list)


async def exists_with_id(session: AsyncSession, dataset: Dataset, artifact_id: str) -> bool:
    query = select(Artifact.id).where(Artifact.dataset_id == dataset.id, Artifact.artifact_id == artifact_id)
    return (await session.execute(query)).first() is not None


async def create(
    session: AsyncSession,
    dataset: Dataset,
    artifact_id: str,
    metadata: bytes,
    data: Sequence[tuple[str, str]],
    partitions: Sequence[tuple[str, str]],
) -> Artifact:
    """Inserts the artifact and its rows; ALREADY_EXISTS when the dataset has an artifact with this id."""
    record = Artifact(dataset_id=dataset.id, artifact_id=artifact_id, serialized_metadata=metadata)
    await insert(session, record, f"artifact {artifact_id} already exists in the dataset", field="artifact.id")
    session.add_all(
        ArtifactData(artifact_pk=record.id, position=position, name=name, location=location)
        for position, (name, location) in enumerate(data)
    )
    session.add_all(
        Partition(artifact_pk=record.id, dataset_id=dataset.id, position=position, key=key, value=value)
        for position, (key, value) in enumerate(partitions)
    )
    await session.flush()
    return record


async def get(session: AsyncSession, dataset: Dataset, handle: ArtifactHandle, *, for_update: bool = False) -> Artifact:
    """The artifact with this id, or the one this tag points at; NOT_FOUND when there is none.

    `for_update` locks the artifact row (PostgreSQL) so concurrent updates of one artifact queue up.
    """
    query = select(Artifact).where(Artifact.dataset_id == dataset.id)
    if handle.artifact_id:
        query = query.where(Artifact.artifact_id == handle.artifact_id)
    else:
        query = query.join(Tag, Tag.artifact_pk == Artifact.id).where(
            Tag.dataset_id == dataset.id, Tag.name == handle.tag_name
        )
    if for_update:
        query = query.with_for_update(of=Artifact)
    record = (await session.execute(query)).scalar_one_or_none()
    if record is None:
        entity = "Artifact" if handle.artifact_id else "Tag"
        field_name = "artifact_id" if handle.artifact_id else "tag_name"
        raise NotFound(f"missing entity of type {entity} with identifier {handle} in the dataset", field=field_name)
    return record


async def parts(session: AsyncSession, artifact_pks: Sequence[int]) -> dict[int, ArtifactParts]:
    found = {pk: ArtifactParts() for pk in artifact_pks}
    if not artifact_pks:
        return found
    data = await session.execute(
        select(ArtifactData.artifact_pk, ArtifactData.name, ArtifactData.location)
        .where(ArtifactData.artifact_pk.in_(artifact_pks))
        .order_by(ArtifactData.artifact_pk, ArtifactData.position)
    )
    for pk, name, location in data:
        found[pk].data.append((name, location))
    partitions = await session.execute(
        select(Partition.artifact_pk, Partition.key, Partition.value)
        .where(Partition.artifact_pk.in_(artifact_pks))
        .order_by(Partition.artifact_pk, Partition.position)
    )
    for pk, key, value in partitions:
        found[pk].partitions.append((key, value))
    tags = await session.execute(
        select(Tag.artifact_pk, Tag.name)
        .where(Tag.artifact_pk.in_(artifact_pks))
        .order_by(Tag.artifact_pk, Tag.created_at, Tag.id)
    )
    for pk, name in tags:
        found[pk].tag_names.append(name)
    return found


async def list_page(session: AsyncSession, dataset: Dataset, filters: ArtifactFilters, page: Page) -> list[Artifact]:
    query = select(Artifact).where(Artifact.dataset_id == dataset.id)
    for artifact_id in filters.artifact_ids:
        query = query.where(Artifact.artifact_id == artifact_id)
    for tag_name in filters.tag_names:
        query = query.where(
            exists().where(Tag.artifact_pk == Artifact.id, Tag.dataset_id == dataset.id, Tag.name == tag_name)
        )
    for key, value in filters.partitions:
        query = query.where(
            exists().where(Partition.artifact_pk == Artifact.id, Partition.key == key, Partition.value == value)
        )
    if page.ascending:
        query = query.order_by(Artifact.created_at.asc(), Artifact.id.asc())
    else:
        query = query.order_by(Artifact.created_at.desc(), Artifact.id.desc())
    return list((await session.execute(query.offset(page.offset).limit(page.limit))).scalars())


async def replace_data(
    session: AsyncSession, record: Artifact, metadata: bytes, data: Sequence[tuple[str, str]]
) -> list[str]:
    """Gives the artifact new metadata and exactly these data rows; returns the locations no row names now."""
    old = await session.execute(
        delete(ArtifactData).where(ArtifactData.artifact_pk == record.id).returning(ArtifactData.location)
    )
    old_locations = [location for (location,) in old]
    await session.execute(
        update(Artifact)
        .where(Artifact.id == record.id)
        .values(serialized_metadata=metadata, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.add_all(
        ArtifactData(artifact_pk=record.id, position=position, name=name, location=location)
        for position, (name, location) in enumerate(data)
    )
    await session.flush()
    kept = {location for _, location in data}
    return [location for location in old_locations if location not in kept]
