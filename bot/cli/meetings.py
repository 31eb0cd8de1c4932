"""`sotay meetings import FILE.xlsx`: a year's meetings for many units from one sheet; and
`sotay report attendance`: who attended the meetings of the units under a unit in a year."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zipfile import BadZipFile
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.org import PATH_HELP, find_unit
from bot.cli.output import output_file
from bot.cli.session import operator, run_in_transaction, services_for
from bot.cli.settings import load_settings
from bot.exports.attendance import UnitSheet, write_attendance
from bot.models import Meeting
from bot.services.handbook.normalize import fold
from bot.services.meetings.when import DateTimeInputError, parse_time
from bot.services.organisations import UnitTree, load_tree, member_counts, split_unit_path

COLUMNS = {
    "don vi": "unit",
    "loai": "kind",
    "ngay": "day",
    "gio": "time",
    "dia diem": "place",
    "noi dung": "agenda",
}
REQUIRED = {"unit": "Đơn vị", "kind": "Loại", "day": "Ngày", "time": "Giờ", "place": "Địa điểm"}
KINDS = {"thuong ky": "regular", "chuyen de": "themed", "tap huan": "training", "khac": "other"}
KINDS_SHOWN = "thường kỳ, chuyên đề, tập huấn, khác"
IMPORT_HELP = """A year's meetings for many units, from the first sheet of a .xlsx file.

The sheet's headers are matched without diacritics or case: Đơn vị (the unit's names path),
Loại (thường kỳ, chuyên đề, tập huấn, khác), Ngày (dd/mm/yyyy or an Excel date), Giờ,
Địa điểm and, optionally, Nội dung. Every bad row is reported with its line; when any row is
bad nothing is written."""


def _folded(value: object) -> str:
    return " ".join(fold(unicodedata.normalize("NFC", str(value))).lower().split())


def _shown(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


@dataclass(frozen=True)
class PlannedMeeting:
    unit_id: int
    kind: str
    starts_at: datetime
    place: str
    agenda: str | None


class RowError(ValueError):
    """A reason a row cannot be imported, in Vietnamese."""


def _unit(tree: UnitTree, value: object) -> int:
    shown = _shown(value)
    if not shown:
        raise RowError("thiếu đơn vị")
    unit = tree.find(split_unit_path(unicodedata.normalize("NFC", shown)))
    if unit is None:
        raise RowError(f"không có đơn vị “{shown}”")
    if not unit.active:
        raise RowError(f"đơn vị “{shown}” đã sáp nhập hoặc không còn hoạt động")
    return unit.id


def _kind(value: object) -> str:
    shown = _shown(value)
    if not shown:
        raise RowError("thiếu loại")
    kind = KINDS.get(_folded(shown))
    if kind is None:
        raise RowError(f"loại “{shown}” không rõ (một trong: {KINDS_SHOWN})")
    return kind


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    shown = _shown(value)
    if not shown:
        raise RowError("thiếu ngày")
    try:
        return datetime.strptime(shown, "%d/%m/%Y").date()
    except ValueError:
        raise RowError(f"ngày “{shown}” không đúng dạng dd/mm/yyyy hoặc không có thật") from None


def _time(value: object) -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    shown = _shown(value)
    if not shown:
        raise RowError("thiếu giờ")
    try:
        return parse_time(shown)
    except DateTimeInputError as exc:
        raise RowError(str(exc)) from None


def _place(value: object) -> str:
    shown = _shown(value)
    if not shown:
        raise RowError("thiếu địa điểm")
    return shown


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, {column: value}) for each row with anything in it."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, BadZipFile) as exc:
        raise CliError(f"cannot read {path} as .xlsx: {exc}") from None
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = next(rows, ())
    columns = {i: COLUMNS.get(_folded(name)) for i, name in enumerate(header) if name is not None}
    missing = [shown for key, shown in REQUIRED.items() if key not in columns.values()]
    if missing:
        raise CliError(f"{path}: thiếu cột {', '.join(missing)}")
    found = []
    for line, values in enumerate(rows, start=2):
        if all(_shown(v) == "" for v in values):
            continue
        found.append(
            (line, {key: values[i] for i, key in columns.items() if key and i < len(values)})
        )
    workbook.close()
    return found


def _plan(row: dict[str, Any], tree: UnitTree, tz: ZoneInfo) -> PlannedMeeting:
    reasons = []
    parsed: dict[str, Any] = {}
    readers = {"unit": lambda v: _unit(tree, v), "kind": _kind, "day": _day, "time": _time}
    for key, reader in [*readers.items(), ("place", _place)]:
        try:
            parsed[key] = reader(row.get(key))
        except RowError as exc:
            reasons.append(str(exc).rstrip("."))
    if reasons:
        raise RowError("; ".join(reasons))
    agenda = _shown(row.get("agenda")) or None
    starts_at = datetime.combine(parsed["day"], parsed["time"], tz)
    return PlannedMeeting(parsed["unit"], parsed["kind"], starts_at, parsed["place"], agenda)


async def _exists(session: AsyncSession, planned: PlannedMeeting) -> bool:
    found = await session.scalar(
        select(Meeting.id).where(
            Meeting.organisation_id == planned.unit_id,
            Meeting.starts_at == planned.starts_at,
            Meeting.cancelled_at.is_(None),
        )
    )
    return found is not None


async def _check(
    session: AsyncSession, rows: list[tuple[int, dict[str, Any]]], tz: ZoneInfo
) -> tuple[list[PlannedMeeting], list[str]]:
    tree = await load_tree(session)
    planned: list[PlannedMeeting] = []
    problems: list[str] = []
    seen: dict[tuple[int, datetime], int] = {}
    for line, row in rows:
        try:
            meeting = _plan(row, tree, tz)
        except RowError as exc:
            problems.append(f"dòng {line}: {exc}")
            continue
        key = (meeting.unit_id, meeting.starts_at)
        if key in seen:
            problems.append(f"dòng {line}: trùng đơn vị và thời gian với dòng {seen[key]}")
        elif await _exists(session, meeting):
            problems.append(f"dòng {line}: đơn vị đã có cuộc họp vào thời gian này")
        else:
            seen[key] = line
            planned.append(meeting)
    return planned, problems


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    if path.suffix.lower() != ".xlsx":
        raise CliError("the calendar must be a .xlsx file")
    settings = load_settings()
    rows = _read_rows(path)
    actor = operator()

    async def work(session: AsyncSession) -> tuple[int, list[str]]:
        planned, problems = await _check(session, rows, settings.timezone)
        if problems:
            return 0, problems
        services = services_for(session)
        for meeting in planned:
            await services.meetings.create(
                meeting.unit_id,
                kind=meeting.kind,
                title="",
                place=meeting.place,
                agenda=meeting.agenda,
                starts_at=meeting.starts_at,
                actor=actor,
            )
        await services.audit.record(actor, "meetings.import", path.name, count=len(planned))
        return len(planned), []

    created, problems = run_in_transaction(work)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        raise CliError(f"{len(problems)} bad row(s) in {path}; nothing imported")
    print(f"{created} meeting(s) imported from {path}")
    return 0


def _year(value: str) -> int:
    if not value.isdigit() or not 2000 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"not a year: {value!r}")
    return int(value)


def _attendance(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".xlsx":
        raise CliError("--out must name a .xlsx file")
    tz = load_settings().timezone

    async def report(session: AsyncSession) -> list[UnitSheet]:
        top = await find_unit(session, args.unit)
        tree = await load_tree(session)
        counts = await member_counts(session)
        services = services_for(session)
        sheets = [
            UnitSheet(unit.name, await services.attendance.year(unit.id, args.year))
            for unit in tree.subtree(top.id)
            if counts.get(unit.id)
        ]
        await services.audit.record(
            operator(), "export.attendance", f"unit:{top.id}", year=args.year, units=len(sheets)
        )
        return sheets

    with output_file(out) as sheet:
        units = run_in_transaction(report)
        if not units:
            raise CliError("no active members there: nothing to report")
        write_attendance(sheet, units, tz)
    flagged = sum(m.flagged for u in units for m in u.record.members)
    print(f"{len(units)} unit sheet(s) written to {out}; {flagged} member(s) flagged")
    return 0


def add_attendance_report(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """`sotay report attendance`, registered by bot/cli/report.py."""
    attendance = actions.add_parser(
        "attendance",
        help="who attended each unit's meetings in a year, as .xlsx",
        description="A sheet per unit with members under the unit (✓ attended, ✗ absent, "
        "the reason in the cell's comment, blank not marked) and a summary sheet flagging "
        "members absent without a reason in three or more months of the year.",
    )
    attendance.add_argument("--unit", required=True, metavar="PATH", help=PATH_HELP)
    attendance.add_argument("--year", required=True, type=_year, metavar="YYYY")
    attendance.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx")
    attendance.set_defaults(func=_attendance)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    meetings = subparsers.add_parser(
        "meetings", help="chi bộ meetings", description="Chi bộ meetings."
    )
    actions = meetings.add_subparsers(dest="action", metavar="ACTION", required=True)
    importer = actions.add_parser(
        "import",
        help="a year's meetings for many units from a .xlsx sheet",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("file", type=Path, metavar="FILE.xlsx")
    importer.set_defaults(func=_import)
