"""Database plumbing shared by admin, propeller and datacatalog: engines, sessions, migrations, schema checks.

SQLite (WAL) by default, PostgreSQL by URL. Each component owns an Alembic script directory; this
module runs its migrations and refuses to serve on a schema that is behind or ahead of the code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator

from flyteplane import sqlite_trips
from flyteplane.errors import FailedPrecondition, InvalidArgument

# Constraint names that are the same on SQLite and PostgreSQL, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def async_url(url: str) -> str:
    """Pick the async driver for a plain URL: sqlite → aiosqlite, postgresql → asyncpg."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidArgument(f"not a database URL: {url!r}", field="database.url") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise InvalidArgument(f"unsupported database {backend!r}: use sqlite or postgresql", field="database.url")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    full = async_url(url)
    if full.startswith("sqlite"):
        parsed = make_url(full)
        path = parsed.database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        url_args = parsed.get_dialect()().create_connect_args(parsed)
        engine = create_async_engine(
            full,
            poolclass=NullPool if path == ":memory:" else None,
            async_creator=sqlite_trips.connector(*url_args),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(full, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


@dataclass(frozen=True)
class Database:
    """An engine plus its session factory; `session()` is the unit of work."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str) -> Database:
        engine = create_engine(url)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends normally, rolled back when it raises."""
        async with self.sessions() as session, session.begin():
            yield session

    async def rows(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
        """The rows of one read on a connection of its own: no ORM session, identity map nor object loading (for
        the reads clients and loops repeat: a poll, an idle check)."""
        async with self.engine.connect() as connection:
            return (await connection.execute(statement, params)).all()

    async def dispose(self) -> None:
        await self.engine.dispose()


@dataclass(frozen=True)
class Migrations:
    """One component's Alembic script directory and version table."""

    script_location: Path
    version_table: str

    def config(self, url: str) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(self.script_location))
        cfg.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
        cfg.attributes["version_table"] = self.version_table
        return cfg

    def head(self) -> str:
        head = ScriptDirectory(str(self.script_location)).get_current_head()
        assert head is not None, f"no migrations in {self.script_location}"
        return head

    async def upgrade(self, database: Database, url: str) -> None:
        """Apply every pending migration (idempotent)."""
        cfg = self.config(url)

        def run(connection: Connection) -> None:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

        async with database.engine.begin() as connection:
            await connection.run_sync(run)

    async def current(self, database: Database) -> str | None:
        def read(connection: Connection) -> str | None:
            context = MigrationContext.configure(connection, opts={"version_table": self.version_table})
            return context.get_current_revision()

        async with database.engine.connect() as connection:
            return await connection.run_sync(read)

    async def require_current(self, database: Database, component: str) -> None:
        """Refuse to serve on a schema that is not exactly the one this code expects."""
        current, head = await self.current(database), self.head()
        if current == head:
            return
        script = ScriptDirectory(str(self.script_location))
        known = {rev.revision for rev in script.walk_revisions()}
        if current is None:
            why = "the database has no schema yet"
        elif current not in known:
            why = f"the database schema ({current}) is newer than this flyteplane ({head}); upgrade flyteplane"
        else:
            why = f"the database schema ({current}) is behind this flyteplane ({head})"
        raise FailedPrecondition(f"{component}: {why}; run `flyteplane migrate`", field="database.url")

    async def connect(self, url: str, component: str) -> Database:
        """A connection pool on `url` whose schema is exactly this code's; refused (and closed) otherwise."""
        database = Database.connect(url)
        try:
            await self.require_current(database, component)
        except BaseException:
            await database.dispose()
            raise
        return database


def run_migration_environment(metadata: MetaData) -> None:
    """The body of every component's Alembic env.py: run on the connection `Migrations.upgrade` hands over."""
    config = context.config
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
