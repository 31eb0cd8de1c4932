"""The console as the real bot, played the way a person types into it (lines on a pipe, the
screen read back): a secretary's notice goes out and its progress and report come back, a
trainer's quiz opened at once reaches a demo member who takes it, and a meeting reminder
due during the session arrives once. The outbox dispatcher and the schedulers are those
of `sotay run`."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TextIO

import pytest
from sqlalchemy import select

from bot.channels.console_delivery import ConsoleSender
from bot.db import Database
from bot.demo import seed_activity, seed_demo
from bot.messages import Reply
from bot.models import (
    ChannelAccount,
    ConversationState,
    MeetingReminder,
    Member,
    Organisation,
    OutboxMessage,
    Quiz,
    QuizAttempt,
    utcnow,
)
from bot.runtime import run_console
from bot.services import Services, Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers.notices import render_notice

NOTICE = "Chi bộ họp thường kỳ lúc 14h thứ Bảy tại phòng họp tầng 2."
MEMBER = "90000002"  # Trần Thị Bình, Chi bộ Văn phòng: the member seat


class Screen(io.StringIO):
    """The console's stdout, read back by the test."""

    async def shows(self, expected: str, after: int = 0) -> int:
        """Waits (20 seconds at most) until `expected` is on the screen after position
        `after`; returns where it ends."""
        deadline = asyncio.get_running_loop().time() + 20
        while (found := self.getvalue().find(expected, after)) < 0:
            assert asyncio.get_running_loop().time() < deadline, (
                f"{expected!r} not shown:\n{self.getvalue()[after:]}"
            )
            await asyncio.sleep(0.05)
        return found + len(expected)


class Console:
    """`sotay console --as ROLE` on the test database, typed into through a pipe."""

    def __init__(self, settings: Settings, role: str) -> None:
        self.screen = Screen()
        read, write = os.pipe()
        self._stdin: TextIO = os.fdopen(read, "r", encoding="utf-8")
        self._keyboard: TextIO = os.fdopen(write, "w", encoding="utf-8")
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            run_console(settings, role, self._stdin, self.screen, stop=self.stop)
        )
        self.seen = 0  # how far the test has read the screen

    async def expect(self, expected: str) -> None:
        self.seen = await self.screen.shows(expected, self.seen)

    async def type(self, line: str, then: str | None = None) -> None:
        self._keyboard.write(f"{line}\n")
        self._keyboard.flush()
        await self.expect(f"> {line}\n")
        if then is not None:
            await self.expect(then)

    async def leave(self) -> str:
        """Ends the input (Ctrl+D); returns the whole screen once the console has left."""
        self._keyboard.close()
        await asyncio.wait_for(self.task, 30)
        self._stdin.close()
        return self.screen.getvalue()


@pytest.fixture
async def demo(database: Database, settings: Settings, handbook: HandbookIndex) -> Database:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await seed_activity(session, Shared(settings, handbook, render=render_notice))
    return database


@pytest.fixture
async def console_as(settings: Settings) -> AsyncIterator[object]:
    started: list[Console] = []

    def start(role: str) -> Console:
        started.append(Console(settings, role))
        return started[-1]

    yield start
    for console in started:
        if not console.task.done():
            console.stop.set()
            await asyncio.wait_for(console.task, 30)


async def _rows(database: Database, **where: object) -> list[OutboxMessage]:
    async with database.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for column, value in where.items():
            query = query.where(getattr(OutboxMessage, column) == value)
        return list(await session.scalars(query))


async def _member_id(database: Database, card: str) -> int:
    async with database.session() as session:
        found = await session.scalar(select(Member.id).where(Member.card_number == card))
    assert found is not None
    return found


async def _choices_stored(database: Database, prefix: str) -> None:
    """Waits until the member seat's console account holds choices starting with `prefix`."""
    for _ in range(100):
        async with database.session() as session:
            choices = await session.scalar(
                select(ConversationState.choices)
                .join(ChannelAccount, ChannelAccount.id == ConversationState.account_id)
                .join(Member, Member.id == ChannelAccount.member_id)
                .where(ChannelAccount.channel == "console", Member.card_number == MEMBER)
            )
        if choices and choices[0].startswith(prefix):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {prefix} choices stored")


async def test_a_secretary_sends_a_notice_and_sees_its_progress_and_report(
    demo: Database, console_as: object
) -> None:
    console = console_as("secretary")  # type: ignore[operator]
    await console.expect("bí thư chi bộ Nguyễn Văn An (Chi bộ Văn phòng)")
    await console.expect("/thongbao")  # the banner lists the secretary's commands
    await console.expect("Chào đồng chí Nguyễn Văn An")
    await console.type("/thongbao", text("broadcast.ask_text", limit=1800))
    await console.type(NOTICE, "  1. ☑ Chi bộ Văn phòng\n  2. Xem trước\n  3. Hủy")
    await console.type("2", "Người nhận: 3 đảng viên, trong đó 2 đã liên kết")
    await console.type("1", "Đã xếp hàng thông báo #")
    notices = await _rows(demo, kind="broadcast")
    broadcast_id = notices[0].broadcast_id
    assert text("broadcast.queued", id=broadcast_id, linked=2) in console.screen.getvalue()
    # The secretary is in the chi bộ: the notice reaches him in the console as well.
    await console.expect(f"{text('console.arrived')}\n📢 THÔNG BÁO\n\n{NOTICE}")
    await console.expect(f"Thông báo #{broadcast_id} đã gửi xong.\n• Đã nhận: 2")
    screen = await console.leave()
    progress = text(
        "broadcast.progress", id=broadcast_id, sent=0, reachable=2, failed=0, blocked=0, pending=2
    )
    assert f"{text('console.arrived')}\n{progress}" in screen
    summary = "📢 THÔNG BÁO: Chi bộ họp thường kỳ lúc 14h thứ Bảy tại phòng…"  # 60 characters
    assert text("console.delivered", count=1, preview=summary) in screen
    assert screen.rstrip().endswith(text("console.goodbye"))
    member = await _member_id(demo, MEMBER)
    delivered = {row.member_id: row.status for row in await _rows(demo, broadcast_id=broadcast_id)}
    assert delivered[member] == "sent"
    assert sorted(delivered.values()) == ["sent", "sent", "skipped"]  # Lê Minh Châu: no account


async def test_a_trainers_quiz_opened_at_once_reaches_a_member_who_takes_it(
    demo: Database, console_as: object
) -> None:
    console = console_as("trainer")  # type: ignore[operator]
    await console.expect("tập huấn viên Hoàng Thị Hà (Chi bộ Sở Tư pháp)")
    await console.type("/taoquiz", text("quiz_setup.ask_title"))
    await console.type("Kiểm tra nhanh", "  2. ☐ Đảng bộ Khối các cơ quan và doanh nghiệp")
    await console.type("2", "  2. ☑ Đảng bộ Khối các cơ quan và doanh nghiệp")
    await console.type("4", text("quiz_setup.choose_topics"))
    await console.type("14")  # every topic
    await console.type("1", "7. Tiếp tục")  # one question
    await console.type("7", "  1. Mở ngay")
    await console.type("1", "  1. Sau 3 ngày")
    await console.type("1", "  1. Lưu")
    await console.type("1", "✅ Đã lên lịch bài trắc nghiệm")
    # Opened by the quiz scheduler at once: the trainer, in a targeted chi bộ, is invited
    # too; the other demo members' invitations are summarised.
    await console.expect(f"{text('console.arrived')}\n📝 Bài trắc nghiệm: Kiểm tra nhanh")
    await console.expect(
        text("console.delivered", count=4, preview="📝 Bài trắc nghiệm: Kiểm tra nhanh")
    )
    async with demo.session() as session:
        quiz = await session.scalar(select(Quiz).where(Quiz.title == "Kiểm tra nhanh"))
    assert quiz is not None and quiz.state == "open"
    member = await _member_id(demo, MEMBER)
    invitations = await _rows(demo, kind="quiz_invitation", member_id=member)
    assert [row.status for row in invitations if "Kiểm tra nhanh" in row.payload["text"]] == [
        "sent"
    ]
    # The demo member takes it.
    await console.type("/demo member", "Chào đồng chí Trần Thị Bình")
    await console.type("/tracnghiem", "Bắt đầu: Kiểm tra nhanh")
    shown = console.screen.getvalue()[console.seen - 200 : console.seen]
    number = next(
        line.strip().split(".")[0]
        for line in shown.splitlines()
        if line.strip().endswith("Bắt đầu: Kiểm tra nhanh")
    )
    await console.type(number, "Câu 1/1:")
    await console.type("A", "🏁 Đồng chí đã hoàn thành bài «Kiểm tra nhanh»")
    await console.leave()
    async with demo.session() as session:
        attempt = await session.scalar(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.member_id == member
            )
        )
    assert attempt is not None and attempt.finished_at is not None


async def test_a_meeting_reminder_due_during_the_session_arrives_once(
    demo: Database, settings: Settings, handbook: HandbookIndex, console_as: object
) -> None:
    shared = Shared(settings, handbook, render=render_notice)
    async with demo.session() as session, session.begin():
        services = Services.for_session(session, shared)
        office = await session.scalar(
            select(Organisation.id).where(Organisation.name == "Chi bộ Văn phòng")
        )
        assert office is not None
        # Its only reminder, two hours before, is due a few seconds from now.
        starts = utcnow() + timedelta(hours=2, seconds=3)
        meeting = await services.meetings.create(
            office,
            kind="other",
            title="Họp chi ủy mở rộng",
            place="Phòng khách",
            starts_at=starts,
            offsets=[120],
            actor="test",
        )
    console = console_as("member")  # type: ignore[operator]
    # On a slow machine the console may take longer than those seconds to greet: the
    # reminder then arrives first, which is as right.
    await console.expect(f"{text('console.arrived')}\n🔔 Nhắc lịch: Họp chi ủy mở rộng")
    await console.expect("  1. Tham dự\n  2. Vắng")
    await console.screen.shows("Chào đồng chí Trần Thị Bình")
    # The digit answers the reminder: the dispatcher stores its choices for the account
    # once it is delivered (a person does not type within those milliseconds; a test may).
    await _choices_stored(demo, "rsvp:")
    await console.type("1", "Đã ghi nhận: đồng chí tham dự Họp chi ủy mở rộng")
    await asyncio.sleep(1.5)
    screen = await console.leave()
    assert screen.count(f"{text('console.arrived')}\n🔔 Nhắc lịch: Họp chi ủy mở rộng") == 1
    assert text("console.delivered", count=1, preview="🔔 Nhắc lịch: Họp chi ủy mở rộng") in screen
    async with demo.session() as session:
        statuses = list(
            await session.scalars(
                select(MeetingReminder.status).where(MeetingReminder.meeting_id == meeting.id)
            )
        )
    assert statuses == ["sent"]
    reminders = [r for r in await _rows(demo, kind="reminder") if "chi ủy" in r.payload["text"]]
    # Bình at the keyboard and the secretary; Lê Minh Châu has no account.
    assert sorted(r.status for r in reminders) == ["sent", "sent", "skipped"]
    # A new session does not send it again.
    again = console_as("member")  # type: ignore[operator]
    await again.expect("Chào đồng chí Trần Thị Bình")
    assert "Họp chi ủy" not in await again.leave()


async def test_the_other_demo_members_deliveries_are_summarised_per_message() -> None:
    shown: list[str] = []
    sender = ConsoleSender(shown.append, quiet_after=0.05)
    sender.chat_id = "demo-1"
    for chat in ("demo-2", "demo-3", "demo-1", "demo-4"):
        await sender.deliver(chat, Reply("📢 THÔNG BÁO\n\nHọp chi bộ lúc 14h."))
    await sender.deliver("demo-2", Reply("🔔 Nhắc lịch: Sinh hoạt chi bộ"))
    await asyncio.sleep(0.2)
    assert shown == [
        f"{text('console.arrived')}\n📢 THÔNG BÁO\n\nHọp chi bộ lúc 14h.",
        text("console.delivered", count=3, preview="📢 THÔNG BÁO: Họp chi bộ lúc 14h."),
        text("console.delivered", count=1, preview="🔔 Nhắc lịch: Sinh hoạt chi bộ"),
    ]
