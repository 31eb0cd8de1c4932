"""`sotay questions unanswered`: what members asked that the handbook did not answer well."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.output import output_file
from bot.cli.session import operator, run_in_transaction, services_for
from bot.cli.settings import load_settings
from bot.exports.spreadsheets import write_editor_questions
from bot.models import HandbookQuery


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None


async def _questions(session: AsyncSession, since: datetime) -> list[HandbookQuery]:
    services = services_for(session)
    rows = await services.questions.for_editors(since)
    await services.audit.record(
        operator(), "export.questions", None, since=since.date().isoformat(), count=len(rows)
    )
    return rows


def _unanswered(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".xlsx":
        raise CliError("--out must name a .xlsx file")
    timezone = load_settings().timezone
    since = datetime.combine(args.since, time.min, timezone)
    with output_file(out) as temporary:
        rows = run_in_transaction(lambda session: _questions(session, since))
        write_editor_questions(temporary, rows, timezone)
    print(f"{len(rows)} questions written to {out}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    questions = subparsers.add_parser(
        "questions", help="questions members asked", description="Questions members asked."
    )
    actions = questions.add_subparsers(dest="action", metavar="ACTION", required=True)
    unanswered = actions.add_parser(
        "unanswered",
        help="export questions not answered, or answered with a thumbs down",
        description="Write to an .xlsx file the questions the handbook did not answer, and "
        "those whose answer got a thumbs down, since a day: work for the editors.",
    )
    unanswered.add_argument("--since", type=_date, required=True, metavar="YYYY-MM-DD")
    unanswered.add_argument("--out", type=Path, required=True, metavar="FILE.xlsx")
    unanswered.set_defaults(func=_unanswered)
