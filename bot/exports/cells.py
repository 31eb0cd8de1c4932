"""Cells written from user data are text, never formulas: a member's question
`=HYPERLINK(...)` or a roster name starting with `=` must not run when a secretary opens the
workbook. Every workbook writer builds its cells here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

# What Excel, LibreOffice and Google Sheets take as the start of a formula (OWASP CSV
# injection); tab and CR because spreadsheet programs strip them before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: Cell) -> Cell:
    """Store a string that looks like a formula as a string, with Excel's quote prefix so
    that editing the cell does not turn it into one either."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def cell(sheet: Worksheet | WriteOnlyWorksheet, value: object) -> Cell:
    """A cell for `sheet.append`, safe whatever the value holds."""
    return as_text(WriteOnlyCell(sheet, value))


def row(sheet: Worksheet | WriteOnlyWorksheet, values: Iterable[object]) -> list[Cell]:
    """A row for `sheet.append`: styled cells made by the caller are made safe too."""
    return [as_text(v) if isinstance(v, Cell) else cell(sheet, v) for v in values]
