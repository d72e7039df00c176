"""Initial datacatalog schema: the tables of datacatalog.models as of revision 0001 (created 2026-11-24)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flyteplane.migration_tables import Reference, Table, create_tables, drop_tables

revision = "0001"
down_revision: str | None = None

_DATASET_KEY = ("project", "name", "domain", "version", "org")


def _column(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=False)


def _dataset_key_columns() -> list[sa.Column[Any]]:
    """A dataset's identity, which a reservation repeats rather than referencing the dataset row."""
    lengths = {"project": 128, "name": 512, "domain": 128, "version": 512, "org": 128}
    return [_column(name, sa.String(length=lengths[name])) for name in _DATASET_KEY]


def _cascade(column: str, table: str) -> Reference:
    return Reference(column, table, ondelete="CASCADE")


def _tables() -> list[Table]:
    return [
        Table(
            "datasets",
            [
                _column("uuid", sa.String(length=36)),
                *_dataset_key_columns(),
                _column("serialized_metadata", sa.LargeBinary()),
            ],
            key=_DATASET_KEY,
            unique=[("uq_datasets_uuid", ["uuid"])],
            indexes=[("ix_datasets_created_at", ["created_at", "id"])],
        ),
        Table(
            "reservations",
            [
                *_dataset_key_columns(),
                _column("tag_name", sa.String(length=512)),
                _column("owner_id", sa.String(length=512)),
                _column("expires_at", sa.DateTime(timezone=True)),
            ],
            key=(*_DATASET_KEY, "tag_name"),
        ),
        Table(
            "artifacts",
            [
                _column("dataset_id", sa.Integer()),
                _column("artifact_id", sa.String(length=512)),
                _column("serialized_metadata", sa.LargeBinary()),
            ],
            references=[_cascade("dataset_id", "datasets")],
            key=("dataset_id", "artifact_id"),
            indexes=[("ix_artifacts_dataset_created_at", ["dataset_id", "created_at", "id"])],
        ),
        Table(
            "dataset_partition_keys",
            [
                _column("dataset_id", sa.Integer()),
                _column("position", sa.Integer()),
                _column("name", sa.String(length=512)),
            ],
            references=[_cascade("dataset_id", "datasets")],
            unique=[("uq_dataset_partition_keys_name", ["dataset_id", "name"])],
        ),
        Table(
            "artifact_data",
            [
                _column("artifact_pk", sa.Integer()),
                _column("position", sa.Integer()),
                _column("name", sa.String(length=512)),
                _column("location", sa.Text()),
            ],
            references=[_cascade("artifact_pk", "artifacts")],
            unique=[("uq_artifact_data_name", ["artifact_pk", "name"])],
        ),
        Table(
            "partitions",
            [
                _column("artifact_pk", sa.Integer()),
                _column("dataset_id", sa.Integer()),
                _column("position", sa.Integer()),
                _column("key", sa.String(length=512)),
                _column("value", sa.String(length=512)),
            ],
            references=[_cascade("artifact_pk", "artifacts"), _cascade("dataset_id", "datasets")],
            key=("artifact_pk", "key"),
            indexes=[("ix_partitions_dataset_key_value", ["dataset_id", "key", "value"])],
        ),
        Table(
            "tags",
            [
                _column("dataset_id", sa.Integer()),
                _column("name", sa.String(length=512)),
                _column("artifact_pk", sa.Integer()),
            ],
            references=[_cascade("artifact_pk", "artifacts"), _cascade("dataset_id", "datasets")],
            key=("dataset_id", "name"),
            indexes=[("ix_tags_artifact_pk", ["artifact_pk"])],
        ),
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
