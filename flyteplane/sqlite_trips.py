"""SQLite connections that go to their thread once per statement, not four times.

aiosqlite runs a connection's calls on a thread of its own and wakes the event loop after each:
a thread switch, a pipe write and an epoll wake-up, about 0.1 ms of CPU here. SQLAlchemy's adapter
makes four such trips for every SELECT (make a cursor, execute, fetch, close the cursor) and three
for every other statement, then one to commit and one more to roll back as the pool takes the
connection back, even when the transaction never wrote. A GetExecution was six trips.

These connections make one trip per statement: the cursor is made, the statement executed, its
rows fetched and the cursor closed on the connection's thread in one call, and what SQLAlchemy
reads afterwards (description, rowcount, lastrowid, the rows) is kept. A commit or rollback with
no transaction open is not sent: sqlite3 would do nothing with it anyway (it checks the same flag,
`in_transaction`, which is readable from any thread). Nothing blocking runs on the event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import aiosqlite

Rows = list[Any]
Outcome = tuple[Any, int, int | None, Rows]


def _run(connection: sqlite3.Connection, how: Callable[[sqlite3.Cursor], object]) -> Outcome:
    cursor = connection.cursor()
    try:
        how(cursor)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """What SQLAlchemy's aiosqlite adapter uses of an aiosqlite cursor, one thread trip per statement."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: Rows = []

    def __await__(self) -> Generator[Any, None, OneTripCursor]:
        """`await connection.cursor()`, as aiosqlite answers it: the cursor (no trip; its statement makes one)."""
        return self.__aenter__().__await__()

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _trip(self, how: Callable[[sqlite3.Cursor], object]) -> OneTripCursor:
        self.description, self.rowcount, self.lastrowid, self._rows = await self._connection.run(how)
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> OneTripCursor:
        return await self._trip(lambda cursor: cursor.execute(sql, () if parameters is None else parameters))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        return await self._trip(lambda cursor: cursor.executemany(sql, parameters))

    async def fetchall(self) -> Rows:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Rows:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip per statement (see the module's doc)."""

    async def run(self, how: Callable[[sqlite3.Cursor], object]) -> Outcome:
        outcome: Outcome = await self._execute(partial(_run, self._conn, how))  # type: ignore[no-untyped-call]
        return outcome

    def cursor(self) -> OneTripCursor:  # type: ignore[override]  # no trip: the statement makes the cursor
        return OneTripCursor(self)

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connector(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Callable[[], Any]:
    """`create_async_engine(async_creator=...)`: connections made with the dialect's own connect arguments."""

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy's dialect does: a leaked one never holds up exit
        await connection  # starts its thread and connects there
        return connection

    return connect
