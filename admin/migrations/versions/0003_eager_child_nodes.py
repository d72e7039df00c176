"""Eager tasks' sub-executions as node executions (admin.managers.eager), revision 0003.

`node_executions.child_execution_id`: the execution a node execution stands for.
`executions.eager_parent_id`: the eager execution a new execution waits to be attached to.

An eager task's sub-executions are recorded as node executions under its node; each such node names
the execution it follows. At most one node per execution: a relaunch under the same name cannot add a
second.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    with op.batch_alter_table("node_executions") as batch:
        batch.add_column(sa.Column("child_execution_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_node_executions_child_execution_id_executions",
            "executions",
            ["child_execution_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_node_executions_child_execution_id", ["child_execution_id"], unique=True)

    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("eager_parent_id", sa.Integer(), nullable=True))
        batch.create_index("ix_executions_eager_parent_id", ["eager_parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_index("ix_executions_eager_parent_id")
        batch.drop_column("eager_parent_id")
    with op.batch_alter_table("node_executions") as batch:
        batch.drop_index("ix_node_executions_child_execution_id")
        batch.drop_constraint("fk_node_executions_child_execution_id_executions", type_="foreignkey")
        batch.drop_column("child_execution_id")
