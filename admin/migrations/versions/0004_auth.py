"""The authorization server's tables (admin.models.auth), revision 0004.

`auth_clients`: service clients (client id, scrypt of the secret). `auth_revoked_tokens`: the ids of
access tokens revoked before they expire.
"""

from __future__ import annotations

import sqlalchemy as sa

from flyteplane.migration_tables import Table, create_tables, drop_tables

revision = "0004"
down_revision: str | None = "0003"


def _tables() -> list[Table]:
    return [
        Table(
            "auth_clients",
            [
                sa.Column("client_id", sa.String(length=255), nullable=False),
                sa.Column("secret_hash", sa.String(length=255), nullable=False),
                sa.Column("description", sa.String(length=1024), nullable=False),
            ],
            unique=[("uq_auth_clients_client_id", ["client_id"])],
            indexes=[("ix_auth_clients_created_at", ["created_at"])],
        ),
        Table(
            "auth_revoked_tokens",
            [
                sa.Column("jti", sa.String(length=64), nullable=False),
                sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            ],
            unique=[("uq_auth_revoked_tokens_jti", ["jti"])],
            indexes=[
                ("ix_auth_revoked_tokens_created_at", ["created_at"]),
                ("ix_auth_revoked_tokens_expires_at", ["expires_at"]),
            ],
        ),
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
