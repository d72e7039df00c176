"""Artifacts of a dataset with their data locations, partition values and tags."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datacatalog.models.base import Record


class Artifact(Record):
    """An artifact, keyed by its caller-chosen `artifact_id` within one dataset."""

    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("dataset_id", "artifact_id", name="uq_artifacts_key"),
        Index("ix_artifacts_dataset_created_at", "dataset_id", "created_at", "id"),
    )

    dataset_id: Mapped[int] = mapped_column(Integer, ForeignKey("datasets.id", ondelete="CASCADE"))
    artifact_id: Mapped[str] = mapped_column(String(512))
    serialized_metadata: Mapped[bytes] = mapped_column(LargeBinary)  # datacatalog.Metadata


class ArtifactData(Record):
    """One named value of an artifact; the core.Literal itself lives in the object store at `location`."""

    __tablename__ = "artifact_data"
    __table_args__ = (UniqueConstraint("artifact_pk", "name", name="uq_artifact_data_name"),)

    artifact_pk: Mapped[int] = mapped_column(Integer, ForeignKey("artifacts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(512))
    location: Mapped[str] = mapped_column(Text)


class Partition(Record):
    """An artifact's value for one of its dataset's partition keys."""

    __tablename__ = "partitions"
    __table_args__ = (
        UniqueConstraint("artifact_pk", "key", name="uq_partitions_key"),
        Index("ix_partitions_dataset_key_value", "dataset_id", "key", "value"),
    )

    artifact_pk: Mapped[int] = mapped_column(Integer, ForeignKey("artifacts.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(Integer, ForeignKey("datasets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(512))
    value: Mapped[str] = mapped_column(String(512))


class Tag(Record):
    """A name that points at one artifact of its dataset; AddTag on a taken name moves it."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("dataset_id", "name", name="uq_tags_key"),
        Index("ix_tags_artifact_pk", "artifact_pk"),
    )

    dataset_id: Mapped[int] = mapped_column(Integer, ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    artifact_pk: Mapped[int] = mapped_column(Integer, ForeignKey("artifacts.id", ondelete="CASCADE"))
