"""Service clients: created with a secret shown once, kept as its scrypt, checked when a client asks for a token."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from admin.auth.passwords import hash_secret, new_secret, secret_matches
from admin.models import AuthClient
from admin.repositories import auth as auth_records
from flyteplane.database import Database
from flyteplane.errors import AlreadyExists, InvalidArgument, NotFound

_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


@dataclass(frozen=True)
class ClientInfo:
    client_id: str
    description: str


class ServiceClients:
    """The service clients in admin's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, client_id: str, description: str = "") -> str:
        """Create a client; returns its secret (the only time it is known)."""
        if not _CLIENT_ID.match(client_id):
            raise InvalidArgument(
                f"client id {client_id!r}: letters, digits, '.', '_' and '-', starting with a letter or digit",
                field="client_id",
            )
        secret = new_secret()
        digest = await asyncio.to_thread(hash_secret, secret)
        async with self._db.session() as session:
            if await auth_records.find_client(session, client_id) is not None:
                raise AlreadyExists(f"a client {client_id!r} exists already", field="client_id")
            auth_records.add_client(
                session, AuthClient(client_id=client_id, secret_hash=digest, description=description[:1024])
            )
        return secret

    async def list(self) -> list[ClientInfo]:
        async with self._db.session() as session:
            return [ClientInfo(c.client_id, c.description) for c in await auth_records.list_clients(session)]

    async def delete(self, client_id: str) -> None:
        async with self._db.session() as session:
            if not await auth_records.delete_client(session, client_id):
                raise NotFound(f"no client {client_id!r}", field="client_id")

    async def authenticate(self, client_id: str, secret: str) -> bool:
        """Whether `secret` is `client_id`'s. Takes as long for an unknown client as for a wrong secret."""
        async with self._db.session() as session:
            client = await auth_records.find_client(session, client_id)
        stored = client.secret_hash if client is not None else _DECOY
        matches = await asyncio.to_thread(secret_matches, secret, stored)
        return matches and client is not None


# Checked against when the client is unknown, so timing does not tell which client ids exist.
_DECOY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
