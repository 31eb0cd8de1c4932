"""`sotay roster import FILE`: load the committee's roster spreadsheet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.session import operator, run_in_transaction
from bot.models import utcnow
from bot.services.roster import ImportSummary, RosterRejected, RosterService
from bot.services.roster_file import Column, RosterFileError, read_roster


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise CliError(f"no file {path}")
    try:
        roster = read_roster(path)
    except RosterFileError as exc:
        raise CliError(str(exc)) from None
    for warning in roster.warnings:
        print(f"warning: {warning}", file=sys.stderr)

    async def apply(session: AsyncSession) -> ImportSummary:
        return await RosterService(session).import_roster(
            roster, sync=args.sync, skip_invalid=args.skip_invalid, actor=operator(), now=utcnow()
        )

    try:
        summary = run_in_transaction(apply)
    except RosterFileError as exc:
        raise CliError(str(exc)) from None
    except RosterRejected as rejected:
        for problem in rejected.problems:
            print(problem, file=sys.stderr)
        raise CliError(
            f"{len(rejected.problems)} row(s) with problems: nothing was imported "
            "(correct them, or use --skip-invalid to import the other rows)"
        ) from None
    for problem in summary.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(f"imported {path.name}: {summary.rows} row(s)")
    print(f"  created: {summary.created}")
    print(f"  updated: {summary.updated}")
    print(f"  unchanged: {summary.unchanged}")
    print(f"  deactivated: {summary.deactivated}")
    print(f"  units created: {summary.units_created}")
    if Column.ROLE in roster.columns:
        print(f"  roles granted: {summary.roles_granted}, revoked: {summary.roles_revoked}")
    if summary.problems:
        print(f"  skipped (problems): {len(summary.problems)}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    roster = subparsers.add_parser(
        "roster", help="the roster of members", description="The roster of members."
    )
    actions = roster.add_subparsers(dest="action", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="import the roster from a .xlsx or .csv file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Import the roster from the first sheet of a .xlsx workbook or a UTF-8 .csv file.

Header row, in any case, with or without diacritics:
  Họ và tên, Số thẻ đảng viên, Đơn vị   required
  Đơn vị         the unit's path of names from the top, separated by "/";
                 units not in the tree yet are created
  Ngày sinh      dd/mm/yyyy, yyyy-mm-dd or a date cell
  Số điện thoại  a Vietnamese mobile number
  Vai trò        blank for a member; bí thư, phó bí thư, tập huấn viên (roles on the
                 member's own unit) or quản trị (admin), several separated by commas.
                 With this column the file decides those roles: blank takes them away.
  Loại           chính thức (or blank) or dự bị

Members are matched by card number: importing again updates them, never duplicates.
If any row has a problem, nothing is written and each problem is listed with its line.""",
    )
    importing.add_argument("file", metavar="FILE", type=Path, help="the .xlsx or .csv file")
    importing.add_argument(
        "--sync",
        action="store_true",
        help="the file is the whole roster: members not in it become inactive (never deleted)",
    )
    importing.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the good rows even if some rows have problems (still listed)",
    )
    importing.set_defaults(func=_import)
