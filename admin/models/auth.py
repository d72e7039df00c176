"""The authorization server's records: service clients and revoked access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record
from flyteplane.database import UTCDateTime


class AuthClient(Record):
    """A service client (CI, a bot, another service) that gets tokens with its id and secret (client credentials)."""

    __tablename__ = "auth_clients"

    client_id: Mapped[str] = mapped_column(String(255), unique=True)
    # scrypt of the secret (admin.auth.passwords); the secret itself is shown once, when the client is created.
    secret_hash: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(1024), default="")


class RevokedToken(Record):
    """An access token revoked before it expired (RFC 7009), kept until it would have expired anyway."""

    __tablename__ = "auth_revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
