"""The trace context an execution was launched in (propeller.models.WorkflowRecord.trace_parent), revision 0003."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    # Executions launched before tracing existed carry none: their trace id is derived from their id.
    with op.batch_alter_table("workflow_executions") as batch:
        batch.add_column(sa.Column("trace_parent", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("workflow_executions") as batch:
        batch.drop_column("trace_parent")
