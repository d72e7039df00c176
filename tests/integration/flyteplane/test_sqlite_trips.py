"""SQLite through the one-trip connections: transactions behave as sqlite3's, with a thread trip per statement.

Real SQLite files through SQLAlchemy's ORM and Core, as every component uses them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, String, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flyteplane import sqlite_trips
from flyteplane.database import Database


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.connect(f"sqlite:///{tmp_path / 'trips.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every call sent to a connection's thread."""
    sent: list[str] = []
    original = sqlite_trips.OneTripConnection._execute

    async def counted(self: sqlite_trips.OneTripConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_trips.OneTripConnection, "_execute", counted)
    return sent


async def test_written_rows_are_read_back_with_their_generated_keys_and_counts(db: Database) -> None:
    async with db.session() as session:
        first, second = _Row(name="a"), _Row(name="b", count=5)
        session.add_all([first, second])
        await session.flush()
        assert {first.id, second.id} == {1, 2}  # the keys SQLite made, read back by the ORM
        changed = await session.execute(update(_Row).where(_Row.count >= 0).values(count=_Row.count + 1))
        assert changed.rowcount == 2  # type: ignore[attr-defined]
        await session.execute(insert(_Row), [{"name": f"many-{i}"} for i in range(50)])  # executemany
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(_Row)) == 52
        rows = (await session.scalars(select(_Row).order_by(_Row.id).limit(2))).all()
        assert [(r.name, r.count) for r in rows] == [("a", 1), ("b", 6)]
        assert (await session.execute(select(_Row.name).where(_Row.name == "nobody"))).first() is None


async def test_a_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    async with db.session() as session:
        session.add(_Row(name="kept"))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(update(_Row).values(count=99))
            session.add(_Row(name="kept"))  # unique: the flush fails and the block rolls back
            await session.flush()
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            session.add(_Row(name="abandoned"))
            await session.flush()
            raise RuntimeError("the caller fails after writing")
    async with db.session() as session:
        rows = (await session.scalars(select(_Row))).all()
        assert [(r.name, r.count) for r in rows] == [("kept", 0)]


async def test_concurrent_sessions_each_see_committed_work(db: Database) -> None:
    async def add(i: int) -> None:
        async with db.session() as session:
            session.add(_Row(name=f"n{i}", count=i))

    await asyncio.gather(*(add(i) for i in range(20)))
    async with db.session() as session:
        assert await session.scalar(select(func.sum(_Row.count))) == sum(range(20))


async def test_a_read_is_one_trip_and_a_write_one_per_statement_and_one_to_commit(
    db: Database, trips: list[str]
) -> None:
    async with db.session() as session:
        session.add(_Row(name="x"))
    async with db.session() as session:  # a connection ready in the pool, as a server's are
        await session.scalar(select(_Row).where(_Row.name == "x"))
    trips.clear()
    async with db.session() as session:
        row = await session.scalar(select(_Row).where(_Row.name == "x"))
    assert row is not None and row.name == "x"
    assert trips == ["_run"]  # no cursor of its own, no commit nor rollback of a transaction never opened
    trips.clear()
    async with db.session() as session:
        await session.execute(update(_Row).where(_Row.name == "x").values(count=3))
    assert trips == ["_run", "commit"]
