"""Database migrations: upgrade to the newest schema, and check that a database is there and
migrated before a process uses it.

Alembic is imported by the functions that use it: it takes about half a second, which every
`sotay` command would otherwise pay, also to print its help or a usage error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import Database
from bot.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest revision. Runs its own event loop: call it
    from synchronous code or a worker thread."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


class DatabaseNotReady(RuntimeError):
    """The database cannot be used as it is: missing, unreachable or not migrated. The
    message is one line for the operator."""


class SchemaOutdated(DatabaseNotReady):
    """The database is missing tables this version needs."""


def first_line(exc: BaseException) -> str:
    """A database error in one line: the driver's message, where SQLAlchemy wraps one."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _sqlite_file(url: URL) -> Path | None:
    database = url.database if url.get_backend_name() == "sqlite" else None
    return None if database in (None, "", ":memory:") else Path(database)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The database, once it is known to be there and migrated to this version."""
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    path = _sqlite_file(url)
    if path is not None:
        # Checked before connecting: SQLite would create an empty file (and its folder).
        if not path.is_file():
            raise DatabaseNotReady(f"no database at {path}: run `sotay db upgrade`")
        shown = str(path)
    database = Database(settings.database_url)
    try:
        try:
            revision = await current_revision(database.engine)
        except (OSError, SQLAlchemyError) as exc:
            raise DatabaseNotReady(f"cannot open the database {shown}: {first_line(exc)}") from None
        if revision != head_revision(settings.database_url):
            raise SchemaOutdated("the database schema is not up to date: run `sotay db upgrade`")
        yield database
    finally:
        await database.dispose()
