"""`sotay audit show`: the append-only log of administrative acts."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.session import run_in_transaction
from bot.cli.settings import load_settings
from bot.models import AuditEntry

DEFAULT_LIMIT = 50


def _since(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None


def _limit(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def _details(details: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in details.items())


def _show(args: argparse.Namespace) -> int:
    timezone = load_settings().timezone
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if args.since is not None:
        start = datetime.combine(args.since, time.min, timezone)
        query = query.where(AuditEntry.at >= start)
    if args.action_name is not None:
        # "org" also finds "org.merge", "org.move", ...
        name = args.action_name
        query = query.where(
            or_(
                AuditEntry.action == name, AuditEntry.action.startswith(f"{name}.", autoescape=True)
            )
        )

    async def entries(session: AsyncSession) -> list[AuditEntry]:
        return list(await session.scalars(query.limit(args.limit)))

    found = run_in_transaction(entries)
    if not found:
        print("no audit entries")
    for entry in found:
        at = entry.at.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S")
        line = f"{at}  {entry.actor}  {entry.action}  {entry.target or '-'}"
        print(f"{line}  {_details(entry.details)}".rstrip())
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser(
        "audit", help="the log of administrative acts", description="The audit log."
    )
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="print audit entries, newest first",
        description="Print the append-only log of administrative acts (imports, unit "
        "changes, roles, activation codes), newest first, times in SOTAY_TIMEZONE.",
    )
    show.add_argument(
        "--since", type=_since, metavar="YYYY-MM-DD", help="only entries from this day on"
    )
    show.add_argument(
        "--action",
        dest="action_name",
        metavar="NAME",
        help="only this action (e.g. roster.import), or a group of them (e.g. org)",
    )
    show.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"at most N entries (default {DEFAULT_LIMIT})",
    )
    show.set_defaults(func=_show)
