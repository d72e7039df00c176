"""initial datacatalog schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 07:32:25.926507
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("domain", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=512), nullable=False),
        sa.Column("org", sa.String(length=128), nullable=False),
        sa.Column("serialized_metadata", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("project", "name", "domain", "version", "org", name="uq_datasets_key"),
        sa.UniqueConstraint("uuid", name=op.f("uq_datasets_uuid")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index("ix_datasets_created_at", ["created_at", "id"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("domain", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=512), nullable=False),
        sa.Column("org", sa.String(length=128), nullable=False),
        sa.Column("tag_name", sa.String(length=512), nullable=False),
        sa.Column("owner_id", sa.String(length=512), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("project", "name", "domain", "version", "org", "tag_name", name="uq_reservations_key"),
    )
    op.create_table(
        "artifacts",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.String(length=512), nullable=False),
        sa.Column("serialized_metadata", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_artifacts_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint("dataset_id", "artifact_id", name="uq_artifacts_key"),
    )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.create_index("ix_artifacts_dataset_created_at", ["dataset_id", "created_at", "id"], unique=False)

    op.create_table(
        "dataset_partition_keys",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_partition_keys_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_partition_keys")),
        sa.UniqueConstraint("dataset_id", "name", name="uq_dataset_partition_keys_name"),
    )
    op.create_table(
        "artifact_data",
        sa.Column("artifact_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_pk"], ["artifacts.id"], name=op.f("fk_artifact_data_artifact_pk_artifacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_data")),
        sa.UniqueConstraint("artifact_pk", "name", name="uq_artifact_data_name"),
    )
    op.create_table(
        "partitions",
        sa.Column("artifact_pk", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_pk"], ["artifacts.id"], name=op.f("fk_partitions_artifact_pk_artifacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_partitions_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partitions")),
        sa.UniqueConstraint("artifact_pk", "key", name="uq_partitions_key"),
    )
    with op.batch_alter_table("partitions", schema=None) as batch_op:
        batch_op.create_index("ix_partitions_dataset_key_value", ["dataset_id", "key", "value"], unique=False)

    op.create_table(
        "tags",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("artifact_pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_pk"], ["artifacts.id"], name=op.f("fk_tags_artifact_pk_artifacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_tags_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("dataset_id", "name", name="uq_tags_key"),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index("ix_tags_artifact_pk", ["artifact_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index("ix_tags_artifact_pk")

    op.drop_table("tags")
    with op.batch_alter_table("partitions", schema=None) as batch_op:
        batch_op.drop_index("ix_partitions_dataset_key_value")

    op.drop_table("partitions")
    op.drop_table("artifact_data")
    op.drop_table("dataset_partition_keys")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index("ix_artifacts_dataset_created_at")

    op.drop_table("artifacts")
    op.drop_table("reservations")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index("ix_datasets_created_at")

    op.drop_table("datasets")
