"""Excel workbooks for secretaries, the committee and the editors: activation codes to hand
out, the adoption report and the console's Tổng quan, and the questions the handbook could
not answer. Headers are in Vietnamese: these files are read by people, not programs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.exports.cells import text_cells
from bot.models import HandbookQuery
from bot.services.adoption import AdoptionRow
from bot.services.codes import IssuedCode
from bot.services.overview import Overview

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

CODE_HEADERS = ("Họ và tên", "Đơn vị", "Mã kích hoạt", "Hết hạn")
ADOPTION_HEADERS = (
    "Đơn vị",
    "Đảng viên",
    "Telegram",
    "Zalo",
    "Đã liên kết",
    "Tỷ lệ",
    "Liên kết nhưng chưa hỏi gì sau hướng dẫn",
)
_BOLD = Font(bold=True)


def header_sheet(
    workbook: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]
) -> WriteOnlyWorksheet:
    """A write-only sheet (a province's rows fit in little memory) with a bold, frozen
    header row."""
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, text)
        cell.font = _BOLD
        header.append(cell)
    sheet.append(header)
    return sheet


def write_codes(path: Path, codes: Iterable[IssuedCode], timezone: ZoneInfo) -> None:
    """One row per member: name, unit, code, expiry in local time. No phone or card
    number: the secretary knows the member by name."""
    workbook = Workbook(write_only=True)
    sheet = header_sheet(workbook, "Mã kích hoạt", CODE_HEADERS, (32, 36, 16, 18))
    for issued in codes:
        code = WriteOnlyCell(sheet, issued.code)
        code.font = _BOLD
        expires = WriteOnlyCell(sheet, issued.expires_at.astimezone(timezone).replace(tzinfo=None))
        expires.number_format = "dd/mm/yyyy hh:mm"
        sheet.append(text_cells(sheet, [issued.full_name, issued.unit_name, code, expires]))
    workbook.save(path)


def _percent(sheet: WriteOnlyWorksheet, fraction: float | None) -> WriteOnlyCell:
    """A share as a percent cell; blank when there was nothing to count."""
    cell = WriteOnlyCell(sheet, None if fraction is None else round(fraction, 4))
    cell.number_format = "0.0%"
    return cell


def _adoption_cells(sheet: WriteOnlyWorksheet, row: AdoptionRow) -> list[WriteOnlyCell]:
    unit = WriteOnlyCell(sheet, row.unit_name)
    unit.alignment = Alignment(indent=row.depth)
    counts = (row.members, row.telegram, row.zalo, row.linked)
    return [
        unit,
        *(WriteOnlyCell(sheet, n) for n in counts),
        _percent(sheet, row.rate),
        WriteOnlyCell(sheet, row.idle_after_tour),
    ]


def _append(sheet: WriteOnlyWorksheet, cells: list[WriteOnlyCell], total: bool) -> None:
    if total:
        for cell in cells:
            cell.font = _BOLD
    sheet.append(text_cells(sheet, cells))


def write_adoption(path: Path, rows: Iterable[AdoptionRow]) -> None:
    """The adoption report, indented as the tree is, total rows in bold."""
    workbook = Workbook(write_only=True)
    sheet = header_sheet(workbook, "Tỷ lệ liên kết", ADOPTION_HEADERS, (48, 12, 12, 12, 14, 10, 22))
    for row in rows:
        _append(sheet, _adoption_cells(sheet, row), row.is_total)
    workbook.save(path)


OVERVIEW_HEADERS = (
    *ADOPTION_HEADERS,
    "Bài trắc nghiệm đã đóng",
    "Lượt làm bài",
    "Tỷ lệ làm bài",
    "Tỷ lệ đạt",
    "Buổi họp",
    "Tỷ lệ dự họp",
)


def _share(percent: int | None) -> float | None:
    return None if percent is None else percent / 100


def write_overview(path: Path, overview: Overview) -> None:
    """Tổng quan as the console shows it: the adoption columns, then quizzes closed this year
    (turns taken of those due, share passed of those taken) and meeting attendance (present
    of the marks given). A share with nothing to count is blank."""
    workbook = Workbook(write_only=True)
    widths = (48, 12, 12, 12, 14, 10, 22, 14, 12, 12, 10, 10, 12)
    sheet = header_sheet(workbook, f"Tổng quan năm {overview.year}", OVERVIEW_HEADERS, widths)
    for row in overview.rows:
        quizzes, meetings = row.quizzes, row.meetings
        cells = [
            *_adoption_cells(sheet, row.adoption),
            WriteOnlyCell(sheet, len(quizzes.quizzes)),
            WriteOnlyCell(sheet, quizzes.scored),
            _percent(sheet, _share(quizzes.took_rate)),
            _percent(sheet, _share(quizzes.pass_rate)),
            WriteOnlyCell(sheet, meetings.held),
            _percent(sheet, meetings.rate if meetings.marked else None),
        ]
        _append(sheet, cells, row.adoption.is_total)
    workbook.save(path)


EDITOR_HEADERS = ("Thời điểm hỏi", "Câu hỏi", "Bot đã trả lời", "Mục bot chọn", "Điểm", "Phản hồi")


def write_editor_questions(path: Path, rows: Iterable[HandbookQuery], timezone: ZoneInfo) -> None:
    """Questions the handbook missed or answered with a thumbs down, for the editors."""
    workbook = Workbook(write_only=True)
    sheet = header_sheet(workbook, "Câu hỏi cần bổ sung", EDITOR_HEADERS, (18, 60, 14, 32, 8, 12))
    for row in rows:
        asked = WriteOnlyCell(sheet, row.asked_at.astimezone(timezone).replace(tzinfo=None))
        asked.number_format = "dd/mm/yyyy hh:mm"
        verdict = {True: "👍", False: "👎", None: None}[row.helpful]
        sheet.append(
            text_cells(
                sheet,
                [
                    asked,
                    row.question,
                    "có" if row.answered else "không",
                    row.entry_id or "",
                    row.score,
                    verdict,
                ],
            )
        )
    workbook.save(path)
