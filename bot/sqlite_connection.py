"""aiosqlite connections that cross to their thread once per statement.

aiosqlite runs each sqlite3 call on the connection's own thread, and SQLAlchemy's aiosqlite
adapter makes four such calls for a statement that returns rows (open a cursor, execute,
fetch, close) and three for one that does not. Each crossing costs more CPU than a small
statement does itself: a future, a queue, a wake-up of the event loop through its self-pipe.
Here the cursor does all of it in one crossing: it executes, reads every row and closes the
sqlite3 cursor on the thread, and hands the rows over with its description, row count and
last row id. A select-and-update transaction costs about a fifth less CPU (issue #16,
throughput: `benchmarks/throughput.py`).

Every row is read at once, which is what SQLAlchemy's adapter does anyway for all but
server-side cursors (`stream`); those get their rows from memory here too.

It relies on two of aiosqlite's private members, `_execute` (queue a call on the thread)
and `_conn` (the sqlite3 connection), as SQLAlchemy's adapter does itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import aiosqlite

_Result = tuple[Any, int, int | None, list[Any]]


def _execute(connection: sqlite3.Connection, sql: str, parameters: Any) -> _Result:
    """On the connection's thread: the statement and everything the adapter reads of it."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _execute_many(connection: sqlite3.Connection, sql: str, parameters: Any) -> _Result:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, cursor.rowcount, cursor.lastrowid, []
    finally:
        cursor.close()


class OneCrossingCursor:
    """What SQLAlchemy's adapter uses of an aiosqlite cursor; rows are kept in memory."""

    arraysize = 1

    def __init__(self, connection: OneCrossingConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneCrossingCursor:
        return self

    async def __aexit__(self, *_exception: object) -> None:
        return None

    async def _run(self, work: Callable[..., _Result], sql: str, parameters: Any) -> None:
        connection = self._connection
        result = await connection._execute(work, connection._conn, sql, parameters)
        self.description, self.rowcount, self.lastrowid, self._rows = result

    async def execute(self, sql: str, parameters: Any = ()) -> OneCrossingCursor:
        await self._run(_execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> OneCrossingCursor:
        await self._run(_execute_many, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class OneCrossingConnection(aiosqlite.Connection):
    def cursor(self) -> OneCrossingCursor:  # type: ignore[override]
        return OneCrossingCursor(self)


def connector(arguments: Sequence[Any], options: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    """An `async_creator` for SQLAlchemy: `arguments` and `options` as the dialect would pass
    them to `sqlite3.connect`."""

    async def connect() -> OneCrossingConnection:
        return await OneCrossingConnection(partial(sqlite3.connect, *arguments, **options), 64)

    return connect
