"""`sotay audit show`, and the audit trail every administrative command leaves."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.models import AuditEntry

UNIT = "Tỉnh/Xã A/Chi bộ 1"
OTHER = "Tỉnh/Xã A/Chi bộ 2"
CARDS = ("31000001", "31000002")
PHONES = ("0912345601", "0912345602")


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


async def add_entries(database: Database, *entries: tuple[datetime, str]) -> None:
    async with database.session() as session, session.begin():
        for at, action in entries:
            session.add(AuditEntry(at=at, actor="cli:test", action=action, details={"n": 1}))


async def test_show_prints_newest_first_in_local_time(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_entries(
        database,
        (datetime(2026, 1, 5, 1, 0, tzinfo=UTC), "org.merge"),
        (datetime(2026, 2, 1, 17, 30, tzinfo=UTC), "roster.import"),
    )
    assert await sotay("audit", "show") == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-02-02 00:30:00  cli:test  roster.import  -  n=1",  # Asia/Ho_Chi_Minh, UTC+7
        "2026-01-05 08:00:00  cli:test  org.merge  -  n=1",
    ]


async def test_show_filters(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    await add_entries(
        database,
        (datetime(2026, 1, 5, tzinfo=UTC), "org.merge"),
        (datetime(2026, 1, 6, tzinfo=UTC), "org.rename"),
        (datetime(2026, 1, 7, tzinfo=UTC), "roster.import"),
        (datetime(2026, 1, 8, tzinfo=UTC), "organiser.x"),
    )

    assert await sotay("audit", "show", "--action", "org") == 0
    assert [line.split()[3] for line in capsys.readouterr().out.splitlines()] == [
        "org.rename",
        "org.merge",
    ]
    assert await sotay("audit", "show", "--action", "org.merge") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert await sotay("audit", "show", "--since", "2026-01-07") == 0
    assert [line.split()[3] for line in capsys.readouterr().out.splitlines()] == [
        "organiser.x",
        "roster.import",
    ]
    assert await sotay("audit", "show", "--limit", "1") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert await sotay("audit", "show", "--action", "codes") == 0
    assert capsys.readouterr().out == "no audit entries\n"


async def test_show_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        await sotay("audit", "show", "--since", "07/01/2026")
    assert "not a date as YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        await sotay("audit", "show", "--limit", "0")
    assert "not a positive whole number" in capsys.readouterr().err


async def test_every_act_is_audited_without_phone_or_card_numbers(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Họ và tên", "Số thẻ đảng viên", "Số điện thoại", "Đơn vị", "Vai trò"])
    sheet.append(["Nguyễn Văn An", CARDS[0], PHONES[0], UNIT, "bí thư"])
    sheet.append(["Trần Thị Bình", CARDS[1], PHONES[1], OTHER, ""])
    workbook.save(tmp_path / "ds.xlsx")

    assert await sotay("roster", "import", tmp_path / "ds.xlsx") == 0
    assert await sotay("role", "grant", CARDS[1], "--role", "trainer", "--unit", UNIT) == 0
    assert await sotay("role", "revoke", CARDS[1], "--role", "trainer", "--unit", UNIT) == 0
    assert await sotay("codes", "issue", "--unit", "Tỉnh", "--out", tmp_path / "m.xlsx") == 0
    assert await sotay("org", "rename", OTHER, "Chi bộ Hai") == 0
    assert await sotay("org", "move", "Tỉnh/Xã A/Chi bộ Hai", "Tỉnh") == 0
    assert await sotay("org", "merge", "Tỉnh/Chi bộ Hai", UNIT) == 0
    capsys.readouterr()

    assert await sotay("audit", "show") == 0

    shown = capsys.readouterr().out
    assert [line.split("  ")[2] for line in shown.splitlines()] == [
        "org.merge",
        "org.move",
        "org.rename",
        "codes.issue",
        "role.revoke",
        "role.grant",
        "roster.import",
    ]
    async with database.session() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    stored = json.dumps([[e.actor, e.target, e.details] for e in entries], ensure_ascii=False)
    for secret in (*CARDS, *PHONES, *(p[1:] for p in PHONES)):
        assert secret not in stored
        assert secret not in shown
