"""Every workbook the bot writes keeps user data as text: a member's question or a roster
name starting with = + - @ tab or CR is read back from the saved .xlsx as the same string,
never as a formula."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.exports.attendance import UnitSheet, write_attendance
from bot.exports.quiz_results import write_quiz_results
from bot.exports.spreadsheets import write_adoption, write_codes, write_editor_questions
from bot.models import HandbookQuery
from bot.services.adoption import AdoptionRow
from bot.services.codes import IssuedCode
from bot.services.meetings.attendance import Cell, Mark, MemberRecord, UnitRecord
from bot.services.quizzes.report import (
    AnswerRow,
    MemberResult,
    MissedQuestion,
    Participation,
    QuizReport,
    UnitResults,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def _codes(path: Path, value: str) -> None:
    write_codes(path, [IssuedCode(1, value, 1, value, "ABCD-EFGH", AT)], TZ)


def _adoption(path: Path, value: str) -> None:
    write_adoption(path, [AdoptionRow(1, value, 0, False, 3, 1, 1, 2)])


def _questions(path: Path, value: str) -> None:
    query = HandbookQuery(asked_at=AT, question=value, answered=False, score=0.1, helpful=None)
    write_editor_questions(path, [query], TZ)


def _attendance(path: Path, value: str) -> None:
    member = MemberRecord(1, value, (Cell(Mark.EXCUSED, value),), ())
    write_attendance(path, [UnitSheet("Chi bộ A", UnitRecord(1, (), (member,)))], TZ)


def _quiz(path: Path, value: str) -> None:
    result = MemberResult(1, value, 1, value, True, 1, True, 80, True)
    totals = Participation.of([result])
    report = QuizReport(
        quiz_id=1,
        title="Quiz",
        pass_mark=70,
        closes_at=AT,
        closed=True,
        units=(UnitResults(1, value, (result,), totals),),
        overall=totals,
        missed=(MissedQuestion(value, value, 1, 1),),
        answers=(AnswerRow(value, value, 1, 1, value, value, value, False, AT),),
    )
    write_quiz_results(path, report, TZ)


WRITERS: dict[str, Callable[[Path, str], None]] = {
    "codes": _codes,
    "adoption": _adoption,
    "questions": _questions,
    "attendance": _attendance,
    "quiz": _quiz,
}


def _cells(path: Path) -> Iterator[openpyxl.cell.cell.Cell]:
    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        for line in sheet.iter_rows():
            yield from line


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
@pytest.mark.parametrize("writer", WRITERS)
def test_user_data_is_text_not_formula(tmp_path: Path, writer: str, prefix: str) -> None:
    value = f'{prefix}HYPERLINK("http://127.0.0.1/x","bấm")'
    path = tmp_path / "out.xlsx"
    WRITERS[writer](path, value)
    # XML readers turn a bare CR into LF; what matters is that the cell stays text.
    read_back = value.replace("\r", "\n")
    found = [cell for cell in _cells(path) if cell.value in (value, read_back)]
    assert found, "the value was written"
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in found)
    assert not [cell for cell in _cells(path) if cell.data_type == "f"]


def test_ordinary_text_and_numbers_keep_their_type(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    _adoption(path, "Chi bộ Văn phòng")
    values = {cell.value: cell for cell in _cells(path)}
    assert values["Chi bộ Văn phòng"].quotePrefix is False
    assert values[3].data_type == "n"
