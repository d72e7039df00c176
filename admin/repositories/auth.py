"""Queries on the authorization server's records: service clients, revoked tokens, people's logins, refresh tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import AuthClient, PendingLogin, RefreshToken, RevokedToken


async def find_client(session: AsyncSession, client_id: str) -> AuthClient | None:
    client: AuthClient | None = await session.scalar(select(AuthClient).where(AuthClient.client_id == client_id))
    return client


async def list_clients(session: AsyncSession) -> list[AuthClient]:
    return list(await session.scalars(select(AuthClient).order_by(AuthClient.client_id)))


def add_client(session: AsyncSession, client: AuthClient) -> None:
    session.add(client)


async def delete_client(session: AsyncSession, client_id: str) -> bool:
    result = await session.execute(delete(AuthClient).where(AuthClient.client_id == client_id))
    return bool(getattr(result, "rowcount", 0))


async def revoked_ids(session: AsyncSession, now: datetime) -> list[str]:
    """The ids of revoked tokens that have not expired yet."""
    return list(await session.scalars(select(RevokedToken.jti).where(RevokedToken.expires_at > now)))


async def revoke(session: AsyncSession, jti: str, expires_at: datetime, now: datetime) -> None:
    """Record a revocation (once: revoking a token twice is not an error); forget those expired by `now`."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    if await session.scalar(select(RevokedToken.id).where(RevokedToken.jti == jti)) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))


async def add_login(session: AsyncSession, login: PendingLogin, now: datetime) -> None:
    """Record a login in progress; forget those that expired (an hour's grace, for a clear `expired_token`)."""
    await session.execute(delete(PendingLogin).where(PendingLogin.expires_at <= now - timedelta(hours=1)))
    session.add(login)


async def find_login(session: AsyncSession, kind: str, secret_hash: str) -> PendingLogin | None:
    login: PendingLogin | None = await session.scalar(
        select(PendingLogin).where(PendingLogin.kind == kind, PendingLogin.secret_hash == secret_hash)
    )
    return login


async def find_device_login(session: AsyncSession, user_code: str) -> PendingLogin | None:
    """The device login a person's user code names, if it still waits for them."""
    login: PendingLogin | None = await session.scalar(
        select(PendingLogin).where(
            PendingLogin.kind == "device", PendingLogin.user_code == user_code, PendingLogin.state == "pending"
        )
    )
    return login


async def move_login(session: AsyncSession, login_id: int, before: str, after: str, **values: object) -> bool:
    """Move a login from state `before` to `after` (setting `values`), if no one else moved it first."""
    result = await session.execute(
        update(PendingLogin)
        .where(PendingLogin.id == login_id, PendingLogin.state == before)
        .values(state=after, **values)
    )
    return bool(getattr(result, "rowcount", 0))


async def note_poll(session: AsyncSession, login_id: int, polled_at: datetime, interval: int) -> None:
    await session.execute(
        update(PendingLogin).where(PendingLogin.id == login_id).values(polled_at=polled_at, interval=interval)
    )


def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)


async def find_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    token: RefreshToken | None = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    return token


async def rotate_refresh_token(session: AsyncSession, token_id: int) -> bool:
    """Mark an active refresh token used, if it still was (two concurrent refreshes: one wins)."""
    result = await session.execute(
        update(RefreshToken).where(RefreshToken.id == token_id, RefreshToken.state == "active").values(state="rotated")
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_grant(session: AsyncSession, grant_id: str, now: datetime) -> list[tuple[str, datetime]]:
    """Revoke every refresh token of a grant; the (jti, expiry) of its access tokens that have not expired."""
    tokens = list(await session.scalars(select(RefreshToken).where(RefreshToken.grant_id == grant_id)))
    await session.execute(update(RefreshToken).where(RefreshToken.grant_id == grant_id).values(state="revoked"))
    await session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now))
    return [(t.access_jti, t.access_expires_at) for t in tokens if t.access_jti and t.access_expires_at > now]
