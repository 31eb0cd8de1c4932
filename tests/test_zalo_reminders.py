"""On Zalo a reminder arrives through the outbox with numbered choices, and the member
answers with a digit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.channels.zalo import ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.models import Meeting, MeetingResponse, Member, utcnow
from bot.services import Services, Shared
from bot.services.handbook import HandbookIndex
from bot.services.notices import MeetingReminder
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from jobs.dispatcher import Dispatcher
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import linked
from tests.outbox_harness import QUICK_RETRIES
from tests.zalo_harness import running_zalo, zalo_settings

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
ZALO_USER = "zalo-user-77"


async def test_a_reminder_on_zalo_is_answered_by_digit(
    database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        member = await session.scalar(select(Member).where(Member.card_number == "90000004"))
        assert member is not None
        session.add(linked(member.id, ZALO_USER, "zalo"))
        at = datetime(2026, 12, 4, 19, 30, tzinfo=HCM)
        meeting = Meeting(
            organisation_id=member.organisation_id,
            kind="regular",
            title="",
            place="Phòng họp",
            starts_at=at,
            reminder_offsets=[120],
            created_by="test",
        )
        session.add(meeting)
        await session.flush()
        outbox = Services.for_session(session, Shared(Settings(), render=render_notice)).outbox
        await outbox.enqueue_members(  # as the scheduler does when the reminder is due
            [member.id], MeetingReminder(meeting, at), kind="reminder", now=utcnow()
        )
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        sender = ZaloSender(settings)
        await sender.start()
        dispatcher = Dispatcher(database, {"zalo": sender}, settings=QUICK_RETRIES)
        assert await dispatcher.drain_once() == 1
        await sender.stop()
        (reminder,) = server.sent_texts(ZALO_USER)
        assert reminder.startswith("🔔 Nhắc lịch: Sinh hoạt chi bộ thường kỳ")
        assert reminder.endswith("1. Tham dự\n2. Vắng")
        core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
        async with running_zalo(settings, core):
            server.push_text(ZALO_USER, "1")
            await server.wait_for("sendMessage", 2, chat_id=ZALO_USER)
            await asyncio.sleep(0)
        assert server.sent_texts(ZALO_USER)[-1] == text(
            "meetings.attend_recorded",
            title="Sinh hoạt chi bộ thường kỳ",
            when="19:30 thứ Sáu, 04/12/2026",
        )
    async with database.session() as session:
        answers = (
            await session.execute(select(MeetingResponse.answer, MeetingResponse.occurrence_at))
        ).all()
    assert [(a, o.astimezone(UTC)) for a, o in answers] == [("attend", at.astimezone(UTC))]
