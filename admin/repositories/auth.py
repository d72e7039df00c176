"""Queries on the authorization server's records: service clients and revoked tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import AuthClient, RevokedToken


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
