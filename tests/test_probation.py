"""The probationary year: the roster's optional columns (admission date, two sponsors),
/dubi's timeline, and the reminders a month before the year ends to the member, the
sponsors and the secretaries, each once (restarts and re-runs included), reminded again for
a corrected admission date, at 08:00 local time, on Telegram, Zalo and at the console."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.channels.zalo import ZaloSender
from bot.chat import ChatCore
from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.models import ChannelAccount, Member, OutboxMessage
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.services.probation import add_working_days, timeline
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from jobs.dispatcher import Dispatcher
from jobs.probation import ProbationScheduler
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import linked, say
from tests.outbox_harness import QUICK_RETRIES, telegram_sender
from tests.quiz_harness import TelegramMember, member_id
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.telegram_harness import running_channel, telegram_settings
from tests.test_console import Console
from tests.test_roster_import import HEADER, UNIT_1, write_xlsx
from tests.zalo_harness import running_zalo, zalo_settings

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
ADMITTED = date(2026, 1, 10)
ENDS = date(2027, 1, 10)
CONSIDER_BY = date(2027, 2, 19)  # 30 working days (Monday to Friday) after Sunday 10/01/2027
REMIND = datetime(2026, 12, 10, 8, 0, tzinfo=HCM)
BÌNH = "90000002"  # a sponsor with no account in the fixture


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Wednesday 25/11/2026, 10:00 in Vietnam


@pytest.fixture
async def probationer(database: Database, units: dict[str, int]) -> int:
    """Lê Minh Châu (MEMBER, linked), probationary since 10/01/2026, sponsored by the
    secretary of her chi bộ and by Trần Thị Bình."""
    async with database.session() as session, session.begin():
        await session.execute(
            update(Member)
            .where(Member.card_number == MEMBER)
            .values(admission_date=ADMITTED, sponsor1_card=SECRETARY, sponsor2_card=BÌNH)
        )
    return await member_id(database, MEMBER)


async def remind(database: Database, settings: Settings, clock: Clock) -> int:
    return await ProbationScheduler(database, settings, clock=clock).handle_due(clock())


async def reminders(database: Database) -> list[OutboxMessage]:
    async with database.session() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "probation_reminder")
                .order_by(OutboxMessage.id)
            )
        )


def test_the_timeline_counts_twelve_months_and_thirty_working_days() -> None:
    line = timeline(ADMITTED, date(2026, 11, 25))
    assert (line.ends, line.remind_on, line.months_done) == (ENDS, date(2026, 12, 10), 10)
    assert line.consider_by == CONSIDER_BY == add_working_days(ENDS, 30)
    # The 31st has no match in a shorter month: the month's last day.
    assert timeline(date(2026, 1, 31), date(2026, 1, 31)).remind_on == date(2026, 12, 31)
    assert timeline(date(2024, 2, 29), date(2024, 3, 1)).ends == date(2025, 2, 28)


async def test_the_roster_imports_the_admission_date_and_sponsors(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    header = [*HEADER, "Ngày kết nạp", "Người giới thiệu 1", "Người giới thiệu 2"]
    rows: list[list[object]] = [
        ["Nguyễn Văn An", "12/03/1980", "10000001", "", UNIT_1, "Bí thư", "Chính thức", "", "", ""],
        ["Trần Thị Bình", "", "10000002", "", UNIT_1, "", "dự bị", "10/01/2026", "10000001", ""],
    ]
    path = write_xlsx(tmp_path / "ds.xlsx", rows, header)
    assert await asyncio.to_thread(main, ["roster", "import", str(path)]) == 0
    async with database.session() as session:
        bình = await session.scalar(select(Member).where(Member.card_number == "10000002"))
    assert bình is not None and bình.probationary
    assert (bình.admission_date, bình.sponsor1_card, bình.sponsor2_card) == (
        ADMITTED,
        "10000001",
        None,
    )
    # A file without the columns leaves them as they were.
    plain = write_xlsx(tmp_path / "plain.xlsx", [row[:7] for row in rows])
    assert await asyncio.to_thread(main, ["roster", "import", str(plain)]) == 0
    async with database.session() as session:
        kept = await session.scalar(
            select(Member.admission_date).where(Member.card_number == "10000002")
        )
    assert kept == ADMITTED
    # Bad rows are reported by line; nothing is written.
    bad = [
        ["Trần Thị Bình", "", "10000002", "", UNIT_1, "", "dự bị", "31/02/2026", "", ""],
        ["Lê Minh Châu", "", "10000003", "", UNIT_1, "", "dự bị", "", "10000003", ""],
    ]
    wrong = write_xlsx(tmp_path / "bad.xlsx", bad, header)
    assert await asyncio.to_thread(main, ["roster", "import", str(wrong)]) != 0


async def test_dubi_shows_the_timeline(
    database: Database, chat: ChatCore, probationer: int
) -> None:
    (shown,) = await say(chat, MEMBER, "/dubi")
    assert shown.text == text(
        "probation.timeline",
        admitted="10/01/2026",
        ends="10/01/2027",
        months=10,
        remind_on="10/12/2026",
        consider_by="19/02/2027",
    )
    (full,) = await say(chat, SECRETARY, "/dubi")
    assert full.text == text("probation.not_probationary")


async def test_reminders_go_a_month_before_to_member_sponsors_and_secretary_once(
    database: Database, settings: Settings, clock: Clock, probationer: int
) -> None:
    assert await remind(database, settings, clock) == 0
    due = await ProbationScheduler(database, settings, clock=clock).next_due()
    assert due == REMIND
    clock.set(datetime(2026, 12, 10, 7, 59, tzinfo=HCM))
    assert await remind(database, settings, clock) == 0
    clock.set(REMIND)
    assert await remind(database, settings, clock) == 1
    # Again, and as a restarted process would: nothing more.
    assert await remind(database, settings, clock) == 0
    clock.advance(days=3)
    assert await remind(database, settings, clock) == 0
    secretary, bình = await member_id(database, SECRETARY), await member_id(database, BÌNH)
    sent = {(row.member_id, row.status, row.payload["text"]) for row in await reminders(database)}
    values = {"member": "Lê Minh Châu", "unit": "Chi bộ Văn phòng", "ends": "10/01/2027"}
    values["consider_by"] = "19/02/2027"
    assert sent == {
        (probationer, "pending", text("probation.remind_member", **values)),
        (secretary, "pending", text("probation.remind_sponsor", **values)),
        (bình, "skipped", text("probation.remind_sponsor", **values)),  # no account
        (secretary, "pending", text("probation.remind_secretary", **values)),
    }
    assert await ProbationScheduler(database, settings, clock=clock).next_due() is None
    # The admission date corrected: the year ends later, and is reminded for that end.
    async with database.session() as session, session.begin():
        await session.execute(
            update(Member).where(Member.id == probationer).values(admission_date=date(2026, 2, 1))
        )
    assert await remind(database, settings, clock) == 0
    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=HCM))
    assert await remind(database, settings, clock) == 1
    assert len(await reminders(database)) == 8


async def test_a_member_who_unlinks_is_not_sent_the_reminder(
    database: Database, settings: Settings, clock: Clock, probationer: int
) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.member_id == probationer)
            .values(member_id=None)
        )
    clock.set(REMIND)
    assert await remind(database, settings, clock) == 1
    mine = [r for r in await reminders(database) if r.member_id == probationer]
    assert [r.status for r in mine] == ["skipped"]


async def test_the_reminder_is_at_eight_in_sotay_timezone(
    database: Database, database_url: str, probationer: int
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    settings = Settings.from_mapping(
        {"SOTAY_DATABASE_URL": database_url, "SOTAY_TIMEZONE": "Asia/Tokyo"}
    )
    clock = Clock(datetime(2026, 12, 10, 7, 59, tzinfo=tokyo))
    assert await ProbationScheduler(database, settings, clock=clock).next_due() == datetime(
        2026, 12, 10, 8, 0, tzinfo=tokyo
    )
    assert await remind(database, settings, clock) == 0
    clock.set(datetime(2026, 12, 10, 8, 0, tzinfo=tokyo))  # 06:00 in Vietnam
    assert await remind(database, settings, clock) == 1


async def test_on_telegram_the_reminder_arrives_and_dubi_answers(
    database: Database, database_url: str, handbook: HandbookIndex, probationer: int
) -> None:
    clock = Clock(REMIND)
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        assert await remind(database, settings, clock) == 1
        sender = telegram_sender(server, database_url)
        await sender.start()
        dispatcher = Dispatcher(database, {"telegram": sender}, settings=QUICK_RETRIES, clock=clock)
        while await dispatcher.drain_once():
            pass
        await sender.stop()
        (mine,) = server.sent_messages(int(MEMBER))
        assert mine["text"].startswith("🌱 Còn một tháng nữa (đến 10/01/2027)")
        assert len(server.sent_messages(int(SECRETARY))) == 2  # as sponsor, as secretary
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_channel(settings, core):
            (shown,) = await TelegramMember(server, MEMBER).say("/dubi")
    assert shown["text"].startswith("🌱 Thời kỳ dự bị của đồng chí\n• Ngày kết nạp: 10/01/2026")


async def test_on_zalo_the_reminder_arrives_and_dubi_answers(
    database: Database, database_url: str, handbook: HandbookIndex, probationer: int
) -> None:
    user = "zalo-probationer"
    async with database.session() as session, session.begin():
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.member_id == probationer)
            .values(member_id=None)
        )
        session.add(linked(probationer, user, "zalo"))
    clock = Clock(REMIND)
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        assert await remind(database, settings, clock) == 1
        sender = ZaloSender(settings)
        await sender.start()
        dispatcher = Dispatcher(database, {"zalo": sender}, settings=QUICK_RETRIES, clock=clock)
        while await dispatcher.drain_once():
            pass
        await sender.stop()
        (reminder,) = server.sent_texts(user)
        assert reminder.startswith("🌱 Còn một tháng nữa")
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_zalo(settings, core):
            server.push_text(user, "/dubi")
            await server.wait_for("sendMessage", 2, chat_id=user)
        shown = server.sent_texts(user)[-1]
    assert "• 12 tháng dự bị: đã qua 11/12 tháng, hết ngày 10/01/2027" in shown


async def test_at_the_console_a_sponsor_is_reminded_of_the_demo_probationer(
    database: Database, settings: Settings
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    console = Console(settings, "member")
    try:
        await console.expect(
            f"{text('console.arrived')}\n🌱 Đồng chí Lê Minh Châu (Chi bộ Văn phòng) do đồng chí"
        )
        await console.screen.shows("Chào đồng chí Trần Thị Bình")
        await console.type("/dubi", text("probation.not_probationary"))
    finally:
        screen = await console.leave()
    assert screen.count("🌱 Đồng chí Lê Minh Châu") == 1
