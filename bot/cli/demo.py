"""`sotay demo seed`."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli.settings import load_settings
from bot.db import Database
from bot.demo import roster_is_empty, seed_demo


async def _seed(url: str, if_empty: bool) -> str:
    database = Database(url)
    try:
        async with database.session() as session, session.begin():
            if if_empty and not await roster_is_empty(session):
                return "the roster is not empty: demo data not added"
            result = await seed_demo(session)
            return f"demo data ready: {result.units} chi bộ, {result.members_created} members added"
    finally:
        await database.dispose()


def _run_seed(args: argparse.Namespace) -> int:
    print(asyncio.run(_seed(load_settings().database_url, args.if_empty)))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="invented demo data", description="Demo data.")
    actions = demo.add_subparsers(dest="action", metavar="ACTION", required=True)
    seed = actions.add_parser(
        "seed",
        help="add an invented organisation tree and members (safe to repeat)",
        description="Add an invented organisation tree (a provincial committee, two Party "
        "committees, four chi bộ) and twelve members; running it again adds nothing twice.",
    )
    seed.add_argument(
        "--if-empty", action="store_true", help="only when the roster has no members yet"
    )
    seed.set_defaults(func=_run_seed)
