"""`sotay db upgrade`, `sotay db backup FILE` and `sotay db restore FILE`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.backup import BackupError, backup, restore
from bot.cli.errors import CliError
from bot.cli.settings import load_settings
from bot.db import Database
from bot.migrate import current_revision, first_line, head_revision, upgrade


async def _revision(url: str) -> str | None:
    database = Database(url)
    try:
        return await current_revision(database.engine)
    finally:
        await database.dispose()


def upgrade_database() -> None:
    """Migrates SOTAY_DATABASE_URL to the newest schema and says what it did."""
    url = load_settings().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    head = head_revision(url)
    try:
        before = asyncio.run(_revision(url))
        # Up to date: Alembic's environment (a second or so to load) is not needed.
        if before != head:
            upgrade(url)
    except (OSError, SQLAlchemyError) as exc:
        raise CliError(f"cannot upgrade the database {shown}: {first_line(exc)}") from None
    if before == head:
        print(f"database is up to date (revision {head})")
    else:
        print(f"database upgraded from revision {before or 'none'} to {head}")


def _upgrade(_args: argparse.Namespace) -> int:
    upgrade_database()
    return 0


def _backup(args: argparse.Namespace) -> int:
    try:
        written = asyncio.run(backup(load_settings().database_url, args.file))
    except BackupError as exc:
        raise CliError(f"backup failed: {exc}") from None
    print(f"backup written to {written.path} (schema {written.revision}, {written.size:,} bytes)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    try:
        restored = asyncio.run(restore(load_settings().database_url, args.file, force=args.force))
    except BackupError as exc:
        raise CliError(f"restore refused: {exc}") from None
    print(f"database restored from {restored.path} (schema {restored.revision})")
    if restored.behind_head:
        print("the backup's schema is older than this version's: run `sotay db upgrade`")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser(
        "db", help="database schema and backups", description="Database schema and backups."
    )
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "upgrade",
        help="create or migrate the tables to this version",
        description="Create or migrate the database tables (SOTAY_DATABASE_URL) to this version.",
    ).set_defaults(func=_upgrade)
    backup_parser = actions.add_parser(
        "backup",
        help="copy the whole database to a file, while the bot runs",
        description="Copy the whole database (SOTAY_DATABASE_URL) to FILE while the bot runs: "
        "SQLite's online backup, or pg_dump's custom format on PostgreSQL. FILE is replaced "
        "only once the copy is complete and checked.",
    )
    backup_parser.add_argument("file", type=Path, metavar="FILE", help="the backup to write")
    backup_parser.set_defaults(func=_backup)
    restore_parser = actions.add_parser(
        "restore",
        help="put a backup back into the database (stop the bot first)",
        description="Replace the database's contents with the backup in FILE. Refused over "
        "a database that already holds data unless --force is given; run `sotay db upgrade` "
        "after restoring an older backup.",
    )
    restore_parser.add_argument(
        "file", type=Path, metavar="FILE", help="a backup of sotay db backup"
    )
    restore_parser.add_argument(
        "--force",
        action="store_true",
        help="replace a database that already holds data (all of it is lost)",
    )
    restore_parser.set_defaults(func=_restore)
