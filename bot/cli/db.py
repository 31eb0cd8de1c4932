"""`sotay db upgrade`."""

from __future__ import annotations

import argparse

from bot.cli.settings import load_settings
from bot.migrate import upgrade


def _upgrade(_args: argparse.Namespace) -> int:
    upgrade(load_settings().database_url)
    print("database is up to date")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="database schema", description="Database schema.")
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "upgrade",
        help="create or migrate the tables to this version",
        description="Create or migrate the database tables (SOTAY_DATABASE_URL) to this version.",
    ).set_defaults(func=_upgrade)
