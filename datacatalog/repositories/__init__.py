"""DataCatalog's queries, one module per aggregate; managers call these and never build SQL themselves."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from datacatalog.models.base import CatalogBase
from flyteplane.errors import AlreadyExists


async def insert(session: AsyncSession, record: CatalogBase, conflict: str, field: str) -> None:
    """Inserts the record now; ALREADY_EXISTS (`conflict`, naming `field`) when a unique key is taken.

    The database decides, so a concurrent insert of the same key loses here too.
    """
    session.add(record)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(conflict, field=field) from exc
