"""bot/sqlite_connection.py: SQLite statements cross to aiosqlite's thread once each, and
SQLAlchemy still gets what it reads of a cursor (rows, row counts, ids, errors, streams)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/crossings.db")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield database
    await database.dispose()


async def test_a_transaction_crosses_once_per_statement_and_commit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossings: list[Any] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        crossings.append(fn)
        return await execute(self, fn, *args, **kwargs)

    async with database.session() as session, session.begin():
        await session.execute(text("SELECT 1"))  # the connection checked out, set up
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    async with database.session() as session, session.begin():
        inserted = await session.execute(text("INSERT INTO t (v) VALUES ('a')"))
        rows = (await session.execute(text("SELECT id, v FROM t"))).all()

    assert len(crossings) == 3  # insert, select, commit
    assert inserted.lastrowid == 1
    assert [tuple(row) for row in rows] == [(1, "a")]


async def test_row_counts_many_rows_and_streams(database: Database) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            text("INSERT INTO t (v) VALUES (:v)"), [{"v": str(n)} for n in range(250)]
        )
        updated = await session.execute(text("UPDATE t SET v = v || '!' WHERE id <= 100"))
        streamed = await session.stream(text("SELECT v FROM t ORDER BY id"))
        chunks = [len(chunk) async for chunk in streamed.partitions(40)]

    assert updated.rowcount == 100
    assert chunks == [40] * 6 + [10]


async def test_errors_are_sqlalchemy_errors_and_roll_back(database: Database) -> None:
    async with database.session() as session, session.begin():
        await session.execute(text("INSERT INTO t (v) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        async with database.session() as session, session.begin():
            await session.execute(text("INSERT INTO t (v) VALUES ('other')"))
            await session.execute(text("INSERT INTO t (v) VALUES ('same')"))

    async with database.session() as session:
        values = (await session.execute(text("SELECT v FROM t"))).scalars().all()
    assert values == ["same"]
