"""`sotay demo seed`: invented demo data that every chat command has something real to show
on, and who the demo people are."""

from __future__ import annotations

import argparse
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.session import run_in_transaction, shared
from bot.demo import Person, people, roster_is_empty, seed_activity, seed_demo
from bot.logmask import configure_logging

_ROLE_NAMES = {
    "member": "member",
    "secretary": "chi bộ secretary",
    "trainer": "trainer (every unit)",
    "admin": "admin",
}


def _line(person: Person) -> str:
    seat = f"--as {person.seat}" if person.seat else ""
    note = "" if person.linked else "  (not linked: /macode has a code for them)"
    return (
        f"  {seat:<16}{person.name:<17}{_ROLE_NAMES[person.role]:<22}{person.unit:<20}"
        f"card {person.card}{note}"
    )


def _run_seed(args: argparse.Namespace) -> int:
    # The services' own log lines (a quiz opened, its invitations) say nothing new here.
    configure_logging(logging.WARNING)
    seed_demo_data(if_empty=args.if_empty)
    return 0


def seed_demo_data(*, if_empty: bool) -> None:
    """Adds the demo data (only to an empty roster with `if_empty`) and lists the people."""

    async def seed(session: AsyncSession) -> tuple[str, list[Person]]:
        if if_empty and not await roster_is_empty(session):
            return "the roster is not empty: demo data not added", []
        result = await seed_demo(session)
        await seed_activity(session, shared())
        summary = f"demo data ready: {result.units} chi bộ, {result.members_created} members added"
        return summary, await people(session)

    summary, found = run_in_transaction(seed)
    print(summary)
    if found:
        print("\nThe demo people, invented (`sotay console --as ROLE` chats as the first four):")
        print("\n".join(_line(person) for person in found))
        print(
            "\nAlso: a monthly meeting of Chi bộ Văn phòng in three days and a training "
            "session in five, a quiz open for a week and one closed with results, a question "
            "in the inbox (/hopthu)."
        )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="invented demo data", description="Demo data.")
    actions = demo.add_subparsers(dest="action", metavar="ACTION", required=True)
    seed = actions.add_parser(
        "seed",
        help="add invented units, members, meetings and quizzes (safe to repeat)",
        description="Add an invented organisation tree (a provincial committee, two Party "
        "committees, four chi bộ) with twelve members linked to console accounts, their "
        "roles, meetings in the coming days, quizzes and an inbox question, and list the "
        "demo people; running it again adds nothing twice.",
    )
    seed.add_argument(
        "--if-empty", action="store_true", help="only when the roster has no members yet"
    )
    seed.set_defaults(func=_run_seed)
