"""Exporting the questions editors should look at."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.db import Database
from bot.models import HandbookQuery


async def test_export_lists_misses_and_thumbs_down_since_the_day(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    async with database.session() as session, session.begin():
        for day, question, answered, helpful in [
            (1, "câu hỏi cũ không trả lời được", False, None),
            (20, "thời tiết hôm nay", False, None),
            (21, "đảng phí bao nhiêu", True, False),
            (22, "đảng viên dự bị mấy tháng", True, True),
            (23, "chi bộ họp mấy lần", True, None),
        ]:
            session.add(
                HandbookQuery(
                    asked_at=datetime(2026, 11, day, 3, tzinfo=UTC),
                    question=question,
                    answered=answered,
                    entry_id="x" if answered else None,
                    score=0.5,
                    helpful=helpful,
                )
            )
    out = tmp_path / "questions.xlsx"
    command = ["questions", "unanswered", "--since", "2026-11-10", "--out", str(out)]
    # The command runs its own event loop.
    assert await asyncio.to_thread(main, command) == 0
    rows = list(load_workbook(out).active.iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[5]) for r in rows] == [
        ("thời tiết hôm nay", "không", None),
        ("đảng phí bao nhiêu", "có", "👎"),
    ]


def test_a_bad_date_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["questions", "unanswered", "--since", "25/11/2026", "--out", "x.xlsx"])
    assert exit_info.value.code == 2
    assert "not a date as YYYY-MM-DD" in capsys.readouterr().err
