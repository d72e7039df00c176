"""The plane's secrets store: values per project (and domain), encrypted at rest in propeller's database.

Propeller owns it because propeller is what delivers secrets: it resolves a task attempt's
`secret_requests` when the plugin starts the attempt and hands the values to the plugin in its
context, never in an event, a record or a task spec. The `flyteplane secrets` command writes it.

A request (flyteidl core.Secret) names the secret `<group>[/<group_version>]/<key>` (the parts that
are set, joined with "/"), the same parts flytekit builds its `_FSEC_<GROUP>_<KEY>` variable and
`<group>/<key>` file from. A secret stored for a project and a domain wins over one stored for the
whole project (domain "").

Values are sealed with AES-GCM under a 256-bit key from the configuration (`propeller.secrets_key`)
or, unset, kept in `<data_dir>/secrets-key` (created once, owner-readable only); the project, domain
and name are the associated data, so a ciphertext moved to another row does not open.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select

from flyteidl_py.core import security_pb2
from flyteplane.database import Database
from flyteplane.errors import InvalidArgument
from flyteplane.storage.signing import persistent_secret
from plugins.core import SecretNotFound, SecretUnavailable, SecretValue
from propeller.models import SecretRecord

KEY_FILE = "secrets-key"
KEY_BYTES = 32
NONCE_BYTES = 12
MAX_VALUE_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}")


def secrets_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured key (64 hex digits), or the one kept in `data_dir` (created once). Blocking: off the loop."""
    if configured:
        try:
            key = bytes.fromhex(configured)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise InvalidArgument("propeller.secrets_key must be 64 hex digits (a 256-bit key)", field="secrets_key")
        return key
    return persistent_secret(data_dir.expanduser() / KEY_FILE)


def request_name(request: security_pb2.Secret) -> str:
    """The stored name a request refers to: its group, group version and key, those that are set, joined by "/"."""
    return "/".join(part for part in (request.group, request.group_version, request.key) if part)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or any(part in (".", "..") for part in name.split("/")):
        raise InvalidArgument(
            f"secret name {name!r} must be <group>/<key> (or <group>/<version>/<key>, or <key>) of letters, digits, "
            "'_', '-' and '.'",
            field="name",
        )
    return name


@dataclass(frozen=True)
class StoredSecret:
    """What listing shows of a secret: where it applies and when it last changed, never its value."""

    project: str
    domain: str  # "" for every domain of the project
    name: str
    updated_at: datetime


class SecretsStore:
    """Create, list, delete and resolve secrets in propeller's database."""

    def __init__(self, db: Database, key: bytes) -> None:
        self.db = db
        self._aead = AESGCM(key)

    @staticmethod
    def _scope(project: str, domain: str, name: str) -> bytes:
        return f"{project}\0{domain}\0{name}".encode()

    def _seal(self, project: str, domain: str, name: str, value: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value, self._scope(project, domain, name))

    def _open(self, row: SecretRecord) -> bytes:
        try:
            return self._aead.decrypt(
                row.value[:NONCE_BYTES], row.value[NONCE_BYTES:], self._scope(row.project, row.domain, row.name)
            )
        except InvalidTag as exc:
            raise SecretUnavailable(
                f"secret {row.name!r} of {row.project}/{row.domain or '*'} does not open with this plane's secrets key "
                "(propeller.secrets_key or <data_dir>/secrets-key differs from the one it was stored with)"
            ) from exc

    async def put(self, project: str, domain: str, name: str, value: bytes) -> bool:
        """Stores (or replaces) a secret; True when it was new."""
        check_name(name)
        if not project:
            raise InvalidArgument("a secret belongs to a project", field="project")
        if len(value) > MAX_VALUE_BYTES:
            raise InvalidArgument(f"a secret holds at most {MAX_VALUE_BYTES} bytes", field="value")
        sealed = self._seal(project, domain, name, value)
        async with self.db.session() as session:
            row = await session.scalar(
                select(SecretRecord).where(
                    SecretRecord.project == project, SecretRecord.domain == domain, SecretRecord.name == name
                )
            )
            if row is None:
                session.add(SecretRecord(project=project, domain=domain, name=name, value=sealed))
                return True
            row.value = sealed
            return False

    async def stored(self, project: str, domain: str | None = None) -> list[StoredSecret]:
        """The project's secrets (those of `domain` and the project-wide ones, when a domain is given)."""
        query = select(SecretRecord).where(SecretRecord.project == project)
        if domain is not None:
            query = query.where(SecretRecord.domain.in_(("", domain)))
        async with self.db.session() as session:
            rows = (await session.scalars(query.order_by(SecretRecord.name, SecretRecord.domain))).all()
            return [StoredSecret(row.project, row.domain, row.name, row.updated_at) for row in rows]

    async def delete(self, project: str, domain: str, name: str) -> bool:
        """Deletes a secret; False when there was none."""
        async with self.db.session() as session:
            result = await session.execute(
                delete(SecretRecord).where(
                    SecretRecord.project == project, SecretRecord.domain == domain, SecretRecord.name == name
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def resolve(self, project: str, domain: str, requests: Sequence[security_pb2.Secret]) -> list[SecretValue]:
        """The value of every request, the domain's own secret before the project's; SecretNotFound naming all
        that are missing."""
        names = {request_name(request) for request in requests}
        async with self.db.session() as session:
            rows = (
                await session.scalars(
                    select(SecretRecord).where(
                        SecretRecord.project == project,
                        SecretRecord.domain.in_(("", domain)),
                        SecretRecord.name.in_(names),
                    )
                )
            ).all()
            found: dict[str, SecretRecord] = {}
            for row in sorted(rows, key=lambda r: r.domain):  # "" first: the domain's own row replaces it
                found[row.name] = row
            values = {name: self._open(row) for name, row in found.items()}
        missing = [request for request in requests if request_name(request) not in values]
        if missing:
            described = ", ".join(
                f"group={m.group!r} key={m.key!r}" + (f" group_version={m.group_version!r}" if m.group_version else "")
                for m in missing
            )
            raise SecretNotFound(
                f"secret(s) not found for project {project!r} domain {domain!r}: {described}; create them with "
                f"`flyteplane secrets create --project {project} [--domain {domain}] <group>/<key>`"
            )
        return [SecretValue(request, values[request_name(request)]) for request in requests]
