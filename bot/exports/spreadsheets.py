"""Excel workbooks for secretaries, the committee and the editors: activation codes to hand
out, the adoption report, and the questions the handbook could not answer. Headers are in
Vietnamese: these files are read by people, not programs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.models import HandbookQuery
from bot.services.adoption import AdoptionRow
from bot.services.codes import IssuedCode

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
        sheet.append([issued.full_name, issued.unit_name, code, expires])
    workbook.save(path)


def write_adoption(path: Path, rows: Iterable[AdoptionRow]) -> None:
    """The adoption report, indented as the tree is, total rows in bold."""
    workbook = Workbook(write_only=True)
    sheet = header_sheet(workbook, "Tỷ lệ liên kết", ADOPTION_HEADERS, (48, 12, 12, 12, 14, 10, 22))
    for row in rows:
        font = _BOLD if row.is_total else None
        unit = WriteOnlyCell(sheet, row.unit_name)
        unit.alignment = Alignment(indent=row.depth)
        rate = WriteOnlyCell(sheet, round(row.rate, 4))
        rate.number_format = "0.0%"
        cells = [
            unit,
            *(WriteOnlyCell(sheet, n) for n in (row.members, row.telegram, row.zalo, row.linked)),
            rate,
            WriteOnlyCell(sheet, row.idle_after_tour),
        ]
        if font is not None:
            for cell in cells:
                cell.font = font
        sheet.append(cells)
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
            [
                asked,
                row.question,
                "có" if row.answered else "không",
                row.entry_id or "",
                row.score,
                verdict,
            ]
        )
    workbook.save(path)
