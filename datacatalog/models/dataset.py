"""Datasets: the (project, name, domain, version, org) key, a UUID, metadata and ordered partition keys."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datacatalog.models.base import Record


class Dataset(Record):
    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("project", "name", "domain", "version", "org", name="uq_datasets_key"),
        Index("ix_datasets_created_at", "created_at", "id"),
    )

    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    project: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    domain: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(512))
    org: Mapped[str] = mapped_column(String(128), default="")
    serialized_metadata: Mapped[bytes] = mapped_column(LargeBinary)  # datacatalog.Metadata


class DatasetPartitionKey(Record):
    """One partition key name of a dataset; `position` keeps the order the dataset was created with."""

    __tablename__ = "dataset_partition_keys"
    __table_args__ = (UniqueConstraint("dataset_id", "name", name="uq_dataset_partition_keys_name"),)

    dataset_id: Mapped[int] = mapped_column(Integer, ForeignKey("datasets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(512))
