"""The review list as an .xlsx workbook, for the committee staff who check the handbook
against the official texts. Headers are in Vietnamese: it is read by people."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment

from bot.exports.cells import text_cells
from bot.exports.spreadsheets import header_sheet
from bot.services.content_review import ReviewItem

REVIEW_HEADERS = (
    "STT",
    "Loại",
    "Mã",
    "Tiêu đề / câu hỏi",
    "Cần rà soát vì",
    "Căn cứ",
    "Cập nhật",
    "Rà soát lần cuối",
    "Cơ quan rà soát",
)
_WIDTHS = (6, 16, 34, 60, 60, 30, 12, 16, 28)


def write_review_list(path: Path, items: Iterable[ReviewItem]) -> None:
    """One row per item, in the order given (most urgent first); dates as dates."""
    workbook = Workbook(write_only=True)
    sheet = header_sheet(workbook, "Cần rà soát", REVIEW_HEADERS, _WIDTHS)
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, item in enumerate(items, start=1):
        cells = []
        for value in (
            number,
            item.kind.value,
            item.id,
            item.title,
            "; ".join(item.reasons),
            ", ".join(item.based_on),
            item.updated,
            item.reviewed,
            item.reviewed_by or "",
        ):
            cell = WriteOnlyCell(sheet, value)
            cell.alignment = wrap
            if value is not None and hasattr(value, "isoformat"):
                cell.number_format = "dd/mm/yyyy"
            cells.append(cell)
        sheet.append(text_cells(sheet, cells))
    workbook.save(path)
