"""The secrets store (propeller.models.SecretRecord), revision 0002."""

from __future__ import annotations

import sqlalchemy as sa

from flyteplane.migration_tables import Table, create_tables, drop_tables

revision = "0002"
down_revision: str | None = "0001"


def _tables() -> list[Table]:
    return [
        Table(
            "secrets",
            [
                sa.Column("project", sa.String(length=63), nullable=False),
                sa.Column("domain", sa.String(length=63), nullable=False),
                sa.Column("name", sa.String(length=255), nullable=False),
                sa.Column("value", sa.LargeBinary(), nullable=False),
            ],
            key=("project", "domain", "name"),
        )
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
