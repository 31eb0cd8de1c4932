"""The attendance workbook: one sheet per unit (members down, the year's meetings across:
✓ attended, ✗ absent, the reason in the cell's comment, blank not marked) and a summary
sheet flagging members absent without a reason in three or more months."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.exports.cells import as_text, last_row_as_text
from bot.services.meetings.attendance import FLAG_MONTHS, Cell, Mark, MemberRecord, UnitRecord

SUMMARY_TITLE = "Tổng hợp"
SUMMARY_HEADERS = (
    "Đơn vị",
    "Họ và tên",
    "Có mặt",
    "Vắng có lý do",
    "Vắng không lý do",
    "Chưa điểm danh",
    "Tháng vắng không lý do",
    f"Vắng không lý do từ {FLAG_MONTHS} tháng",
)
COUNT_HEADERS = ("Có mặt", "Vắng có lý do", "Vắng không lý do")
SYMBOLS = {Mark.ATTENDED: "✓", Mark.EXCUSED: "✗", Mark.UNEXCUSED: "✗", Mark.UNMARKED: None}
_BOLD = Font(bold=True)
_RED = Font(bold=True, color="C00000")
_SHEET_NAME_LIMIT = 31
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class UnitSheet:
    name: str
    record: UnitRecord


def _header(sheet: Worksheet, headers: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append(list(headers))
    last_row_as_text(sheet)  # a header is a meeting's date, or a unit's name
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.cell(row=1, column=index).font = _BOLD
    sheet.freeze_panes = "B2"


def _sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = _NOT_IN_SHEET_NAMES.sub(" ", name)[:_SHEET_NAME_LIMIT].strip() or "Đơn vị"
    title, number = base, 1
    while title.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        title = base[: _SHEET_NAME_LIMIT - len(suffix)] + suffix
    taken.add(title.casefold())
    return title


def _mark_cells(sheet: Worksheet, row: int, cells: Sequence[Cell]) -> None:
    for column, cell in enumerate(cells, start=2):
        target = sheet.cell(row=row, column=column, value=SYMBOLS[cell.mark])
        if cell.reason:
            target.comment = Comment(cell.reason, "Lý do vắng")


def _counts(member: MemberRecord) -> list[int]:
    return [member.count(m) for m in (Mark.ATTENDED, Mark.EXCUSED, Mark.UNEXCUSED)]


def _unit_sheet(workbook: Workbook, title: str, record: UnitRecord, tz: ZoneInfo) -> None:
    sheet = workbook.create_sheet(title)
    dates = [o.at.astimezone(tz).strftime("%d/%m %H:%M") for o in record.occurrences]
    _header(sheet, ["Họ và tên", *dates, *COUNT_HEADERS], [30, *[12] * len(dates), 10, 14, 16])
    for row, member in enumerate(record.members, start=2):
        as_text(sheet.cell(row=row, column=1, value=member.full_name))
        _mark_cells(sheet, row, member.cells)
        for offset, count in enumerate(_counts(member)):
            sheet.cell(row=row, column=len(dates) + 2 + offset, value=count)


def _summary(sheet: Worksheet, units: Sequence[UnitSheet]) -> None:
    _header(sheet, SUMMARY_HEADERS, (36, 30, 10, 14, 16, 14, 22, 22))
    for unit in units:
        for member in unit.record.members:
            months = ", ".join(f"{m:02d}" for m in member.unexcused_months) or None
            sheet.append(
                [
                    unit.name,
                    member.full_name,
                    *_counts(member),
                    member.count(Mark.UNMARKED),
                    months,
                    "Có" if member.flagged else None,
                ]
            )
            last_row_as_text(sheet)
            if member.flagged:
                sheet.cell(row=sheet.max_row, column=len(SUMMARY_HEADERS)).font = _RED


def write_attendance(path: Path, units: Sequence[UnitSheet], tz: ZoneInfo) -> None:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = SUMMARY_TITLE
    _summary(summary, units)
    taken = {SUMMARY_TITLE.casefold()}
    for unit in units:
        _unit_sheet(workbook, _sheet_title(unit.name, taken), unit.record, tz)
    workbook.save(path)
