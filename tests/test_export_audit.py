"""Every export of personal data from the command line leaves an audit line: who ran it
(the operating-system user) and what left the database."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.models import AuditEntry

OFFICE = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp/Chi bộ Văn phòng"


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (["report", "attendance", "--unit", OFFICE, "--year", "2026"], "export.attendance"),
        (["report", "adoption"], "export.adoption"),
        (["questions", "unanswered", "--since", "2026-01-01"], "export.questions"),
        (["codes", "issue", "--unit", OFFICE], "codes.issue"),
    ],
)
async def test_each_export_is_audited_with_who_and_what(
    database: Database, tmp_path: Path, command: list[str], action: str
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    assert await sotay(*command, "--out", tmp_path / "out.xlsx") == 0
    async with database.session() as session:
        (entry,) = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
    assert entry.actor == f"cli:{getpass.getuser()}"
    assert entry.target or entry.details
