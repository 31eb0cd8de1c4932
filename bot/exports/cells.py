"""Cells written from what people typed (names, questions, unit names, answers) stay text.

openpyxl stores a string starting with "=" as a formula, and Excel or LibreOffice read a
cell starting with + - @ (or a tab or carriage return before them) as one once it is
edited: a member's question "=HYPERLINK(...)" would become a live link in the committee's
copy. Every export writes such values through `text_cells`, which stores each string as a
string with Excel's quote prefix (the invisible leading apostrophe), so it shows exactly as
typed and stays text even when the cell is edited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: Cell) -> Cell:
    """The cell, its string value (if any) kept as text, never a formula."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if cell.value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    return cell


def text_cells(sheet: WriteOnlyWorksheet, values: Iterable[object]) -> list[object]:
    """A row for a write-only sheet: strings and ready cells made safe, numbers and dates
    as they are."""
    row: list[object] = []
    for value in values:
        if isinstance(value, Cell):  # WriteOnlyCell makes a Cell
            row.append(as_text(value))
        elif isinstance(value, str):
            row.append(as_text(WriteOnlyCell(sheet, value)))
        else:
            row.append(value)
    return row


def last_row_as_text(sheet: Worksheet) -> None:
    """After `sheet.append(...)` on an ordinary (not write-only) sheet."""
    for cell in sheet[sheet.max_row]:
        as_text(cell)
