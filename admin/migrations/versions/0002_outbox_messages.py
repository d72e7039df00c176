"""The outbox of notifications and CloudEvents (admin.models.outbox), revision 0002."""

from __future__ import annotations

import sqlalchemy as sa

from flyteplane.migration_tables import Table, create_tables, drop_tables

revision = "0002"
down_revision: str | None = "0001"


def _tables() -> list[Table]:
    return [
        Table(
            "outbox_messages",
            [
                sa.Column("transport", sa.String(length=32), nullable=False),
                sa.Column("channel", sa.String(length=32), nullable=False),
                sa.Column("subject", sa.String(length=255), nullable=False),
                sa.Column("payload", sa.Text(), nullable=False),
                sa.Column("attempts", sa.Integer(), nullable=False),
                sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("last_error", sa.String(length=1024), nullable=False),
            ],
            indexes=[
                ("ix_outbox_messages_created_at", ["created_at"]),
                ("ix_outbox_messages_next_attempt_at", ["next_attempt_at"]),
            ],
        )
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
