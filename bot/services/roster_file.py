"""Reading the roster the organisation committee keeps in a spreadsheet (.xlsx or CSV): every
row checked, each problem reported with the line number the spreadsheet shows, headers and
words matched however they were typed. Applying it is bot/services/roster.py."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from tqdm import tqdm

from bot.services.handbook.normalize import fold
from bot.services.organisations import split_unit_path
from bot.services.permissions import Role
from bot.services.phones import normalise_phone

# Files this long show progress bars (on a terminal).
PROGRESS_FROM_ROWS = 5000
# The header may sit below a title row or two.
HEADER_SEARCH_ROWS = 10
_CHUNK = 2000
MAX_NAME_LENGTH = 200
MAX_CARD_LENGTH = 32


class Column(StrEnum):
    FULL_NAME = "Họ và tên"
    BIRTH_DATE = "Ngày sinh"
    CARD_NUMBER = "Số thẻ đảng viên"
    PHONE = "Số điện thoại"
    UNIT = "Đơn vị"
    ROLE = "Vai trò"
    TYPE = "Loại"
    ADMISSION_DATE = "Ngày kết nạp"
    SPONSOR_1 = "Người giới thiệu 1"
    SPONSOR_2 = "Người giới thiệu 2"


REQUIRED_COLUMNS = (Column.FULL_NAME, Column.CARD_NUMBER, Column.UNIT)


def _words(text: str) -> str:
    """Lowercase without diacritics ("Số thẻ Đảng viên" → "so the dang vien"), for matching
    headers and words however they were typed."""
    return " ".join(fold(text).lower().split())


_HEADERS = {_words(column.value): column for column in Column}
_ROLE_WORDS = {
    "bi thu": Role.SECRETARY,
    "pho bi thu": Role.DEPUTY_SECRETARY,
    "tap huan vien": Role.TRAINER,
    "quan tri": Role.ADMIN,
}
# Words that mean "no role": the cell may be blank or say so.
_MEMBER_WORDS = frozenset({"", "dang vien"})
_TYPE_WORDS = {"": False, "chinh thuc": False, "du bi": True}
_ROLE_SEPARATORS = re.compile(r"[,;+]")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
# Also with a time, as databases export dates: "1986-07-02 00:00:00".
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?")


class RosterFileError(ValueError):
    """The file cannot be read as a roster at all; the message says why in one line."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    card_number: str
    full_name: str
    birth_date: date | None
    phone: str | None
    unit_path: tuple[str, ...]
    roles: frozenset[Role]
    probationary: bool
    admission_date: date | None = None
    sponsor_cards: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedRoster:
    columns: frozenset[Column]
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    # Card numbers on every row, good or bad: --sync must not deactivate a member whose row
    # was only skipped.
    cards_seen: set[str] = field(default_factory=set)


def canonical_card(text: str) -> str:
    """Card numbers as stored and as members type them: without spaces."""
    return "".join(text.split())


def progress(total: int | None, desc: str) -> tqdm[Any]:
    """A progress bar on stderr for long files; tqdm hides it when stderr is not a terminal."""
    show = total is not None and total >= PROGRESS_FROM_ROWS
    return tqdm(total=total, desc=desc, unit=" rows", disable=None if show else True, leave=False)


# --- Reading ---------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number cell: 912345678.0 is "912345678"
    if isinstance(value, datetime):
        value = value.date()
    return unicodedata.normalize("NFC", str(value)).strip()


def _cell_date(value: object) -> date | None:
    """A birth date from a date cell or text; raises ValueError when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    if not text:
        return None
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise ValueError(text)
    born = date(year, month, day)
    if not 1900 <= born.year <= date.today().year:
        raise ValueError(text)
    return born


def _records(path: Path) -> tuple[Iterator[tuple[int, Sequence[object]]], int | None]:
    """(line number, cells) for each line of the file's first sheet, and how many lines
    there are if the file says."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise RosterFileError(
                f"{path.name} is not UTF-8 text: save it as “CSV UTF-8” or as .xlsx"
            ) from None
        first_line = text.partition("\n")[0]
        delimiter = max(",;\t", key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return enumerate(reader, start=1), text.count("\n")
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_records(path)
    if suffix == ".xls":
        raise RosterFileError(f"{path.name} is an old .xls workbook: save it as .xlsx")
    raise RosterFileError(f"{path.name}: give a .xlsx or .csv file")


def _xlsx_records(path: Path) -> tuple[Iterator[tuple[int, Sequence[object]]], int | None]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise RosterFileError(f"cannot read {path.name} as an Excel workbook ({exc})") from None
    sheet = workbook.worksheets[0]

    def rows() -> Iterator[tuple[int, Sequence[object]]]:
        try:
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        finally:
            workbook.close()

    return rows(), sheet.max_row


def _header(cells: Sequence[object]) -> dict[Column, int]:
    found: dict[Column, int] = {}
    for index, cell in enumerate(cells):
        column = _HEADERS.get(_words(_cell_text(cell)).strip(" :*"))
        if column is not None:
            found.setdefault(column, index)
    return found


def read_roster(path: Path) -> ParsedRoster:
    """Every row of the roster, checked; raises RosterFileError if the file has no roster
    header (it names the missing columns)."""
    records, total = _records(path)
    first_header: dict[Column, int] | None = None
    header: dict[Column, int] | None = None
    for line, cells in records:
        found = _header(cells)
        if first_header is None and found:
            first_header = found
        if all(column in found for column in REQUIRED_COLUMNS):
            header = found
            break
        if line >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        missing = [c.value for c in REQUIRED_COLUMNS if c not in (first_header or {})]
        raise RosterFileError(
            f"{path.name} has no column {', '.join(f'“{name}”' for name in missing)} "
            "in its header row"
        )
    roster = ParsedRoster(columns=frozenset(header))
    card_lines: dict[str, int] = {}
    phone_lines: dict[str, int] = {}
    with progress(total, "reading") as bar:
        for line, cells in records:
            bar.update()
            values = {column: cells[i] if i < len(cells) else None for column, i in header.items()}
            if all(_cell_text(value) == "" for value in cells):
                continue
            row, reasons = _parse_row(line, values)
            card = canonical_card(_cell_text(values[Column.CARD_NUMBER]))
            if card:
                roster.cards_seen.add(card)
                if card in card_lines:
                    reasons.append(f"card number repeats line {card_lines[card]}")
                card_lines.setdefault(card, line)
            if reasons or row is None:
                roster.problems.append(RowProblem(line, "; ".join(reasons)))
                continue
            if row.phone is not None:
                if row.phone in phone_lines:
                    roster.warnings.append(
                        RowProblem(line, f"same phone number as line {phone_lines[row.phone]}")
                    )
                phone_lines.setdefault(row.phone, line)
            roster.rows.append(row)
    return roster


def _parse_row(line: int, values: dict[Column, object]) -> tuple[RosterRow | None, list[str]]:
    reasons: list[str] = []

    full_name = " ".join(_cell_text(values[Column.FULL_NAME]).split())
    if not full_name:
        reasons.append("missing name")
    elif len(full_name) > MAX_NAME_LENGTH:
        reasons.append(f"name longer than {MAX_NAME_LENGTH} characters")

    card = canonical_card(_cell_text(values[Column.CARD_NUMBER]))
    if not card:
        reasons.append("missing card number")
    elif len(card) > MAX_CARD_LENGTH:
        reasons.append(f"card number longer than {MAX_CARD_LENGTH} characters")

    birth_date: date | None = None
    if Column.BIRTH_DATE in values:
        try:
            birth_date = _cell_date(values[Column.BIRTH_DATE])
        except ValueError:
            reasons.append("bad birth date (write it as dd/mm/yyyy)")

    phone: str | None = None
    if phone_text := _cell_text(values.get(Column.PHONE)):
        phone = normalise_phone(phone_text)
        if phone is None:
            reasons.append("bad phone number (a Vietnamese mobile number: 10 digits from 0)")

    unit_path = tuple(split_unit_path(_cell_text(values[Column.UNIT])))
    if not unit_path:
        reasons.append("missing unit")
    elif any(len(name) > MAX_NAME_LENGTH for name in unit_path):
        reasons.append(f"unit name longer than {MAX_NAME_LENGTH} characters")

    roles: set[Role] = set()
    role_text = _cell_text(values.get(Column.ROLE))
    for word in _ROLE_SEPARATORS.split(role_text):
        folded = _words(word)
        if folded in _ROLE_WORDS:
            roles.add(_ROLE_WORDS[folded])
        elif folded not in _MEMBER_WORDS:
            reasons.append(
                f"unknown role “{word.strip()}” "
                "(bí thư, phó bí thư, tập huấn viên, quản trị, or blank for a member)"
            )

    type_text = _cell_text(values.get(Column.TYPE))
    probationary = _TYPE_WORDS.get(_words(type_text))
    if probationary is None:
        reasons.append(f"unknown type “{type_text}” (chính thức or dự bị)")

    admission_date: date | None = None
    if Column.ADMISSION_DATE in values:
        try:
            admission_date = _cell_date(values[Column.ADMISSION_DATE])
        except ValueError:
            reasons.append("bad admission date (write it as dd/mm/yyyy)")

    sponsors: list[str | None] = []
    for column in (Column.SPONSOR_1, Column.SPONSOR_2):
        sponsor = canonical_card(_cell_text(values.get(column))) or None
        if sponsor is not None and len(sponsor) > MAX_CARD_LENGTH:
            reasons.append(f"sponsor's card number longer than {MAX_CARD_LENGTH} characters")
        elif sponsor is not None and sponsor == card:
            reasons.append("a member cannot be their own sponsor")
        sponsors.append(sponsor)

    if reasons:
        return None, reasons
    return (
        RosterRow(
            line=line,
            card_number=card,
            full_name=full_name,
            birth_date=birth_date,
            phone=phone,
            unit_path=unit_path,
            roles=frozenset(roles),
            probationary=bool(probationary),
            admission_date=admission_date,
            sponsor_cards=(sponsors[0], sponsors[1]),
        ),
        reasons,
    )
