"""`sotay broadcast send` from the command line, against the fake Bot API server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.models import OutboxMessage
from tests.fakes.telegram_api import FakeTelegramServer
from tests.outbox_harness import add_unit
from tests.secret import TEST_SECRET_KEY

PATH = "Tỉnh/Chi bộ CLI"


async def test_send_waits_until_every_reachable_member_has_it(
    database: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    unit = await add_unit(database, PATH.split("/"), linked=6, unlinked=2)
    notice = tmp_path / "notice.txt"
    notice.write_text("\ufeffChi bộ nộp đảng phí quý IV trước ngày 30/12.", encoding="utf-8")
    async with FakeTelegramServer() as server:
        monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
        monkeypatch.setenv("TELEGRAM_TOKEN", server.token)
        monkeypatch.setenv("SOTAY_SECRET_KEY", TEST_SECRET_KEY)
        monkeypatch.setenv("TELEGRAM_BASE_URL", server.base_url)
        command = ["broadcast", "send", "--unit", PATH, "--text-file", str(notice)]
        assert await asyncio.to_thread(main, command) == 0
        texts = {chat: [m["text"] for m in server.sent_messages(chat)] for chat in unit.chats}
    assert all(len(t) == 1 and "đảng phí quý IV" in t[0] for t in texts.values())
    assert "— Ban Tổ chức" in texts[unit.chats[0]][0]
    assert capsys.readouterr().out.strip().endswith("done: sent: 6, skipped: 2")


async def test_no_wait_only_queues(
    database: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await add_unit(database, PATH.split("/"), linked=2)
    notice = tmp_path / "notice.txt"
    notice.write_text("Họp chi bộ.", encoding="utf-8")
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    command = ["broadcast", "send", "--unit", PATH, "--text-file", str(notice), "--no-wait"]
    assert await asyncio.to_thread(main, command) == 0
    assert "2 queued, 0 not linked" in capsys.readouterr().out
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


@pytest.mark.parametrize(
    ("content", "message"), [("", "is empty"), ("x" * 1801, "1801 characters")]
)
def test_bad_notice_files_stop_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(content, encoding="utf-8")
    assert main(["broadcast", "send", "--unit", PATH, "--text-file", str(notice)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("sotay: ") and message in err and len(err.splitlines()) == 1


async def test_an_unknown_unit_is_refused(
    database: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Họp.", encoding="utf-8")
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    command = ["broadcast", "send", "--unit", "Không/Có", "--text-file", str(notice)]
    assert await asyncio.to_thread(main, command) == 1
    assert "no unit" in capsys.readouterr().err
