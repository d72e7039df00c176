"""Queries on tags: a tag name points at exactly one artifact of its dataset at a time."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from datacatalog.models import Artifact, Dataset, Tag
from datacatalog.repositories import insert
from flyteplane.database import utcnow


async def add(session: AsyncSession, dataset: Dataset, name: str, artifact: Artifact) -> None:
    """Points the tag at the artifact: creates it, or moves it from another artifact of the dataset.

    ALREADY_EXISTS when the tag already points at this very artifact.
    """
    now, artifact_id = utcnow(), artifact.artifact_id  # read before a failed flush expires the record
    moved = cast(
        "CursorResult[Any]",
        await session.execute(
            update(Tag)
            .where(Tag.dataset_id == dataset.id, Tag.name == name, Tag.artifact_pk != artifact.id)
            .values(artifact_pk=artifact.id, created_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if moved.rowcount:
        return
    tag = Tag(dataset_id=dataset.id, name=name, artifact_pk=artifact.id, created_at=now, updated_at=now)
    await insert(session, tag, f"tag {name} already exists for artifact {artifact_id}", field="tag.name")
