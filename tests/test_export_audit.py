"""Issue #14 item 6: every export of members' data leaves an audit line saying who took
what — at the shell and on the web console."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.models import AuditEntry, Member
from tests.web_harness import ADMIN, Console

OFFICES = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp"


async def _audit(database: Database, action: str) -> list[AuditEntry]:
    async with database.session() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize(
    ("command", "action", "details"),
    [
        (
            ["report", "attendance", "--unit", OFFICES, "--year", "2026"],
            "export.attendance",
            {"year": 2026, "units": 2},
        ),
        (["report", "adoption", "--unit", OFFICES], "export.adoption", {"rows": 3}),
        (
            ["questions", "unanswered", "--since", "2026-11-01"],
            "export.questions",
            {"since": "2026-11-01", "count": 0},
        ),
        (["codes", "issue", "--unit", OFFICES], "codes.issue", {"count": 5}),
    ],
)
async def test_each_export_command_is_audited(
    database: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    action: str,
    details: dict[str, object],
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    async with database.session() as session, session.begin():
        await seed_demo(session)
    out = tmp_path / "xuat.xlsx"
    assert await asyncio.to_thread(main, [*command, "--out", str(out)]) == 0
    (entry,) = await _audit(database, action)
    assert entry.actor == f"cli:{getpass.getuser()}"
    assert entry.details == details
    if "--unit" in command:
        assert entry.target is not None and entry.target.startswith("unit:")


async def test_web_exports_are_audited(console: Console) -> None:
    await console.sign_in(ADMIN)
    async with console.database.session() as session:
        admin = await session.scalar(select(Member.id).where(Member.card_number == ADMIN))
    assert (await console.client.get("/admin/tong-quan.xlsx")).status == 200
    assert (await console.client.get("/admin/cau-hoi-chua-co?ngay=30")).status == 200
    (adoption,) = await _audit(console.database, "export.adoption")
    (questions,) = await _audit(console.database, "export.questions")
    assert adoption.actor == questions.actor == f"member:{admin}"
    assert adoption.details["via"] == "web" and adoption.details["rows"] > 0
    assert questions.details["days"] == 30
