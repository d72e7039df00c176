"""initial propeller schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 07:28:35.703980
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
        "workflow_executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("terminal", sa.Boolean(), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("spec", sa.LargeBinary(), nullable=False),
        sa.Column("inputs_uri", sa.String(length=1024), nullable=False),
        sa.Column("launch_plan", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.LargeBinary(), nullable=False),
        sa.Column("abort_cause", sa.String(length=1024), nullable=True),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("failed_rounds", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("lease_until", sa.Double(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_executions")),
        sa.UniqueConstraint("project", "domain", "name", name="uq_workflow_executions_key"),
    )
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_executions_active", ["terminal", "lease_until"], unique=False)

    op.create_table(
        "event_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_executions.id"],
            name=op.f("fk_event_outbox_workflow_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    with op.batch_alter_table("event_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_outbox_workflow_id"), ["workflow_id"], unique=False)

    op.create_table(
        "node_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_executions.id"],
            name=op.f("fk_node_states_workflow_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_states")),
        sa.UniqueConstraint("workflow_id", "key", name="uq_node_states_key"),
    )


def downgrade() -> None:

    op.drop_table("node_states")
    with op.batch_alter_table("event_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_outbox_workflow_id"))

    op.drop_table("event_outbox")
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_executions_active")

    op.drop_table("workflow_executions")
