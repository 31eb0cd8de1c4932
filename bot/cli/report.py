"""`sotay report adoption`: how many members have linked an account, per unit."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.meetings import add_attendance_report
from bot.cli.org import PATH_HELP, find_unit
from bot.cli.output import output_file
from bot.cli.session import operator, run_in_transaction, services_for
from bot.exports.spreadsheets import write_adoption
from bot.services.adoption import AdoptionRow


def _adoption(args: argparse.Namespace) -> int:
    out: Path = args.out
    chart: Path | None = args.chart
    if out.suffix.lower() != ".xlsx":
        raise CliError("--out must name a .xlsx file")
    if chart is not None and chart.suffix.lower() != ".png":
        raise CliError("--chart must name a .png file")

    async def report(session: AsyncSession) -> tuple[str, list[AdoptionRow]]:
        unit = await find_unit(session, args.unit) if args.unit else None
        services = services_for(session)
        rows = await services.adoption.report(None if unit is None else unit.id)
        target = None if unit is None else f"unit:{unit.id}"
        await services.audit.record(operator(), "export.adoption", target, rows=len(rows))
        return ("toàn đảng bộ" if unit is None else unit.name), rows

    # Both files are opened first: when either cannot be written, neither is.
    with ExitStack() as files:
        sheet = files.enter_context(output_file(out))
        drawing = None if chart is None else files.enter_context(output_file(chart))
        scope, rows = run_in_transaction(report)
        if not rows:
            raise CliError("no active members there: nothing to report")
        write_adoption(sheet, rows)
        if drawing is not None:
            # matplotlib takes a second to import: only when a chart is asked for.
            from bot.exports.charts import write_adoption_chart

            write_adoption_chart(drawing, rows, f"Tỷ lệ liên kết tài khoản: {scope}")
    totals = [row for row in rows if row.depth == 0]
    members = sum(row.members for row in totals)
    linked = sum(row.linked for row in totals)
    print(f"{len(rows)} row(s) written to {out}" + (f", chart to {chart}" if chart else ""))
    print(f"linked: {linked} of {members} member(s) ({linked / members:.1%})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser("report", help="reports", description="Reports.")
    actions = report.add_subparsers(dest="action", metavar="ACTION", required=True)
    adoption = actions.add_parser(
        "adoption",
        help="members who linked Telegram or Zalo, per unit, as .xlsx (and a .png chart)",
        description="Per unit: active members on the roster, how many linked Telegram, Zalo, "
        "either, and the share; each unit with members, and a total row for each unit above "
        "them. The chart shows the share per unit (a higher level when there are too many).",
    )
    adoption.add_argument(
        "--unit", metavar="PATH", help=f"only this unit and those under it ({PATH_HELP})"
    )
    adoption.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx", help="the sheet")
    adoption.add_argument("--chart", type=Path, metavar="FILE.png", help="also draw a chart")
    adoption.set_defaults(func=_adoption)
    add_attendance_report(actions)
