"""People's grants at the built-in server: an access token naming the person, and a refresh token, rotated on use.

A refresh token is opaque (random), kept as its SHA-256. Each use answers a new access token and a new refresh
token of the same grant and retires the old one; presenting a retired one again (a stolen copy, or a replay) ends
the whole grant, as does revoking any of its refresh tokens (RFC 7009), which also revokes the access tokens it
issued. An expired, revoked or unknown refresh token is `invalid_grant`: the person logs in again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from admin.auth.oauth import OAuthError
from admin.auth.principal import Principal
from admin.auth.tokens import TokenService
from admin.models import RefreshToken
from admin.repositories import auth as auth_records
from flyteplane.database import Database

log = logging.getLogger("flyteplane.admin.auth")

TokenAnswer = dict[str, str | int]


def digest(secret: str) -> str:
    """How a random, high-entropy secret (refresh token, code) is kept: its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    """Who logged in, as the identity provider said: what the server's tokens for them carry."""

    subject: str
    groups: tuple[str, ...] = ()
    name: str = ""
    email: str = ""

    @classmethod
    def of(cls, principal: Principal) -> Person:
        return cls(principal.subject, tuple(sorted(principal.groups)), principal.name, principal.email)

    def to_json(self) -> str:
        return json.dumps({"sub": self.subject, "groups": list(self.groups), "name": self.name, "email": self.email})

    @classmethod
    def from_json(cls, text: str) -> Person:
        data = json.loads(text)
        return cls(str(data["sub"]), tuple(str(g) for g in data.get("groups", [])), data["name"], data["email"])

    def claims(self) -> dict[str, str | list[str]]:
        return {"groups": list(self.groups), "name": self.name, "email": self.email}


class Grants:
    """Issues people's tokens and refresh tokens; refreshes and revokes them."""

    def __init__(self, db: Database, tokens: TokenService, refresh_seconds: int) -> None:
        self._db = db
        self._tokens = tokens
        self._refresh_seconds = refresh_seconds

    async def issue(
        self, person: Person, client_id: str, scopes: Sequence[str], offline: bool, grant_id: str | None = None
    ) -> TokenAnswer:
        """An access token for `person`; with `offline`, a refresh token too (of `grant_id`, else a new grant)."""
        access = await self._tokens.issue(person.subject, client_id, scopes, claims=person.claims())
        answer: TokenAnswer = {
            "access_token": access.access_token,
            "token_type": "bearer",
            "expires_in": access.expires_in,
            "scope": access.scope,
        }
        if offline:
            refresh = secrets.token_urlsafe(32)
            now = datetime.now(UTC)
            record = RefreshToken(
                token_hash=digest(refresh),
                grant_id=grant_id or secrets.token_hex(16),
                client_id=client_id,
                scope=" ".join(scopes),
                identity=person.to_json(),
                state="active",
                access_jti=access.jti,
                access_expires_at=now + timedelta(seconds=access.expires_in),
                expires_at=now + timedelta(seconds=self._refresh_seconds),
            )
            async with self._db.session() as session:
                auth_records.add_refresh_token(session, record)
            answer["refresh_token"] = refresh
        return answer

    async def refresh(self, token: str, client_id: str) -> TokenAnswer:
        """New tokens for the grant of refresh token `token`, which is retired; OAuthError(invalid_grant) if refused."""
        now = datetime.now(UTC)
        async with self._db.session() as session:
            record = await auth_records.find_refresh_token(session, digest(token))
            refused = _refusal(record, client_id, now)
            rotated = (
                refused is None and record is not None and await auth_records.rotate_refresh_token(session, record.id)
            )
        if record is None or refused is not None:
            raise OAuthError("invalid_grant", refused or "unknown refresh token")
        if not rotated:  # used already: a copy is being replayed (or a concurrent refresh won)
            await self.end(record.grant_id)
            log.warning("a used refresh token of grant %s was presented again: the grant is revoked", record.grant_id)
            raise OAuthError("invalid_grant", "the refresh token was used already: its grant is revoked, log in again")
        person = Person.from_json(record.identity)
        return await self.issue(person, client_id, record.scope.split(), True, record.grant_id)

    async def client_of(self, token: str) -> str | None:
        """The client a refresh token was issued to; None if `token` is not one of this server's refresh tokens."""
        async with self._db.session() as session:
            record = await auth_records.find_refresh_token(session, digest(token))
        return record.client_id if record is not None else None

    async def revoke(self, token: str) -> None:
        """End the grant of refresh token `token` (RFC 7009)."""
        async with self._db.session() as session:
            record = await auth_records.find_refresh_token(session, digest(token))
        if record is not None:
            await self.end(record.grant_id)
            log.info("refresh token of grant %s revoked: the grant ends", record.grant_id)

    async def end(self, grant_id: str) -> None:
        """Revoke every refresh token of a grant and the access tokens issued with them."""
        async with self._db.session() as session:
            access_tokens = await auth_records.revoke_grant(session, grant_id, datetime.now(UTC))
        for jti, expires_at in access_tokens:
            await self._tokens.revocations.add(jti, expires_at)


def _refusal(record: RefreshToken | None, client_id: str, now: datetime) -> str | None:
    """Why a refresh token is refused (a used one aside), or None."""
    if record is None:
        return "unknown refresh token (not issued here, or forgotten): log in again"
    if record.client_id != client_id:
        return f"the refresh token was issued to client {record.client_id!r}, not {client_id!r}"
    if record.state == "revoked":
        return "the refresh token was revoked: log in again"
    if record.expires_at <= now:
        return f"the refresh token expired at {record.expires_at.isoformat()}: log in again"
    return None
