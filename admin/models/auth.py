"""The authorization server's records: service clients, revoked access tokens, people's logins and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
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


class PendingLogin(Record):
    """A person's login in progress: an authorization code (PKCE) or a device code, single use, short-lived.

    Only a SHA-256 of the code (or device code) is kept: they are random and high-entropy, so a hash is enough.
    """

    __tablename__ = "auth_logins"

    kind: Mapped[str] = mapped_column(String(16))  # "code" (authorization code) or "device"
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code: Mapped[str] = mapped_column(String(16), default="", index=True)  # the device flow's, for people
    client_id: Mapped[str] = mapped_column(String(255))
    redirect_uri: Mapped[str] = mapped_column(String(1024), default="")
    code_challenge: Mapped[str] = mapped_column(String(128), default="")
    scope: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16))  # pending, approved, denied, used
    identity: Mapped[str] = mapped_column(Text, default="")  # JSON: the person, once they logged in
    interval: Mapped[int] = mapped_column(Integer, default=5)  # the device flow's polling interval (seconds)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RefreshToken(Record):
    """A refresh token of a person's grant: kept as its SHA-256, rotated on use (the old one then refused).

    Every token of one login shares `grant_id`: revoking any of them, or reusing a rotated one, ends the grant.
    """

    __tablename__ = "auth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(255), default="")
    identity: Mapped[str] = mapped_column(Text, default="")  # JSON: the person the grant is for
    state: Mapped[str] = mapped_column(String(16))  # active, rotated, revoked
    # The access token issued with this refresh token: revoked with the grant.
    access_jti: Mapped[str] = mapped_column(String(64), default="")
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
