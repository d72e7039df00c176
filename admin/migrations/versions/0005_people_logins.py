"""People's logins at the built-in authorization server (admin.models.auth), revision 0005.

`auth_logins`: authorization codes and device codes in progress (SHA-256 of the code). `auth_refresh_tokens`:
refresh tokens of people's grants (SHA-256 of the token), rotated on use.
"""

from __future__ import annotations

import sqlalchemy as sa

from flyteplane.migration_tables import Table, create_tables, drop_tables

revision = "0005"
down_revision: str | None = "0004"


def _tables() -> list[Table]:
    return [
        Table(
            "auth_logins",
            [
                sa.Column("kind", sa.String(length=16), nullable=False),
                sa.Column("secret_hash", sa.String(length=64), nullable=False),
                sa.Column("user_code", sa.String(length=16), nullable=False),
                sa.Column("client_id", sa.String(length=255), nullable=False),
                sa.Column("redirect_uri", sa.String(length=1024), nullable=False),
                sa.Column("code_challenge", sa.String(length=128), nullable=False),
                sa.Column("scope", sa.String(length=255), nullable=False),
                sa.Column("state", sa.String(length=16), nullable=False),
                sa.Column("identity", sa.Text(), nullable=False),
                sa.Column("interval", sa.Integer(), nullable=False),
                sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            ],
            unique=[("uq_auth_logins_secret_hash", ["secret_hash"])],
            indexes=[
                ("ix_auth_logins_created_at", ["created_at"]),
                ("ix_auth_logins_expires_at", ["expires_at"]),
                ("ix_auth_logins_user_code", ["user_code"]),
            ],
        ),
        Table(
            "auth_refresh_tokens",
            [
                sa.Column("token_hash", sa.String(length=64), nullable=False),
                sa.Column("grant_id", sa.String(length=64), nullable=False),
                sa.Column("client_id", sa.String(length=255), nullable=False),
                sa.Column("scope", sa.String(length=255), nullable=False),
                sa.Column("identity", sa.Text(), nullable=False),
                sa.Column("state", sa.String(length=16), nullable=False),
                sa.Column("access_jti", sa.String(length=64), nullable=False),
                sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            ],
            unique=[("uq_auth_refresh_tokens_token_hash", ["token_hash"])],
            indexes=[
                ("ix_auth_refresh_tokens_created_at", ["created_at"]),
                ("ix_auth_refresh_tokens_expires_at", ["expires_at"]),
                ("ix_auth_refresh_tokens_grant_id", ["grant_id"]),
            ],
        ),
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
