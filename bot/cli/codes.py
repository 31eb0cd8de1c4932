"""`sotay codes issue`: activation codes for a unit's members, as a spreadsheet to hand out."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.org import PATH_HELP, find_unit
from bot.cli.output import output_file
from bot.cli.session import operator, run_in_transaction, services_for
from bot.exports.spreadsheets import write_codes
from bot.services.codes import VALID_FOR


def _issue(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".xlsx":
        raise CliError("--out must name a .xlsx file")

    async def issue(session: AsyncSession, sheet: Path) -> int:
        services = services_for(session)
        unit = await find_unit(session, args.unit)
        actor = operator()
        codes = await services.codes.issue_for_unit(
            unit.id, issued_by=actor, now=services.clock(), include_linked=args.include_linked
        )
        await services.audit.record(actor, "codes.issue", f"unit:{unit.id}", count=len(codes))
        if codes:
            # Written before the commit: if the file cannot be written, the old codes stay.
            # (It is renamed to --out once the transaction commits.)
            write_codes(sheet, codes, services.settings.timezone)
        return len(codes)

    with output_file(out) as sheet:
        count = run_in_transaction(lambda session: issue(session, sheet))
    if not count:
        print("no codes issued: every active member there has a linked account")
        return 0
    print(f"{count} code(s) written to {out}, valid for {VALID_FOR.days} days")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    codes = subparsers.add_parser(
        "codes", help="activation codes for linking accounts", description="Activation codes."
    )
    actions = codes.add_subparsers(dest="action", metavar="ACTION", required=True)
    issue = actions.add_parser(
        "issue",
        help="issue codes for a unit's members and write them to a spreadsheet",
        description="Issue a single-use activation code to each active member of a unit "
        "and the units under it who has not linked a messenger account, and write name, "
        f"unit, code and expiry to a .xlsx file for the secretary. Codes are valid "
        f"{VALID_FOR.days} days; a new code replaces a member's unused older ones. Only a "
        "hash of each code is stored: the file is the only copy.",
    )
    issue.add_argument("--unit", required=True, metavar="PATH", help=f"the unit ({PATH_HELP})")
    issue.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx", help="the file")
    issue.add_argument(
        "--include-linked",
        action="store_true",
        help="also members who already linked an account (to link another messenger)",
    )
    issue.set_defaults(func=_issue)
