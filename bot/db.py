"""The async engine and sessions; the same code serves SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot import sqlite_connection


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    # SQLAlchemy's error lines would otherwise quote the statement's values: a member's
    # message, a phone number.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # One connection per process: SQLite takes one writer at a time, and writers waiting in
    # its busy handler sleep in steps of up to 100 ms. Queued for the one connection, they
    # wait in asyncio instead, in order (benchmarks/quiz_load.py: p99 842 → 492 ms). The
    # price: a transaction must not wait on the network or a long computation (a trainer's
    # question sheet is fetched and read before its transaction: ChatCore._prepared), and
    # nested sessions deadlock.
    # No rollback when a connection goes back to the pool: sessions and connections end
    # their transaction before they give it back, and on aiosqlite each call is a hop to
    # its thread (one hop less per transaction; issue #16, throughput). Statements cross to
    # that thread once each: bot/sqlite_connection.py.
    arguments, options = parsed.get_dialect()().create_connect_args(parsed)
    engine = create_async_engine(
        url,
        async_creator=sqlite_connection.connector(arguments, {**options, "timeout": 30}),
        pool_size=1,
        max_overflow=0,
        pool_reset_on_return=None,
        **kwargs,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the dispatcher write while conversations read; foreign keys are off by default.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def dispose(self) -> None:
        await self.engine.dispose()
