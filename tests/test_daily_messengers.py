"""The question a day end to end on each messenger: opting in with taps on Telegram (digits
on Zalo), the question delivered by the outbox dispatcher through the fake Bot API server,
and the answer (a tap, a typed letter) told right or wrong; at the console, the question
due when the console starts arrives and a letter answers it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.channels.choices import KEY_SEPARATOR
from bot.channels.zalo import ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_activity, seed_demo
from bot.models import (
    ChannelAccount,
    ConversationState,
    DailyQuestion,
    DailySubscription,
    Member,
    utcnow,
)
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from jobs.daily import DailyScheduler
from jobs.dispatcher import Dispatcher
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import linked
from tests.outbox_harness import QUICK_RETRIES, telegram_sender
from tests.quiz_harness import TelegramMember, buttons_of, member_id
from tests.secretaries_harness import MEMBER
from tests.telegram_harness import running_channel, telegram_settings
from tests.test_console import Console
from tests.zalo_harness import running_zalo, zalo_settings

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SEVEN_TOMORROW = datetime(2026, 11, 26, 7, 0, tzinfo=HCM)
ZALO_USER = "zalo-daily-member"
CONSOLE = "90000002"  # Trần Thị Bình, the console's member seat


async def delivered(database: Database, member: int) -> DailyQuestion:
    async with database.session() as session:
        found = await session.scalar(select(DailyQuestion).where(DailyQuestion.member_id == member))
    assert found is not None
    return found


async def answered(database: Database, member: int) -> bool | None:
    async with database.session() as session:
        return await session.scalar(
            select(DailyQuestion.correct).where(DailyQuestion.member_id == member)
        )


async def test_on_telegram_a_member_opts_in_gets_the_question_and_answers_it(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    clock = Clock()  # Wednesday 10:00 in Vietnam
    member = await member_id(database, MEMBER)
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_channel(settings, core):
            telegram = TelegramMember(server, MEMBER)
            (intro,) = await telegram.say("/hangngay")
            assert intro["text"] == text("daily.intro")
            assert list(buttons_of(intro)) == ["06:00", "07:00", "12:00", "18:00", "20:00", "21:00"]
            (done,) = await telegram.tap("07:00")
            assert done["text"] == text(
                "daily.subscribed", time="07:00", when=text("daily.tomorrow")
            )
            clock.set(SEVEN_TOMORROW)
            assert await DailyScheduler(database, settings, clock=clock).handle_due(clock()) == 1
            sender = telegram_sender(server, database_url)
            await sender.start()
            dispatcher = Dispatcher(
                database, {"telegram": sender}, settings=QUICK_RETRIES, clock=clock
            )
            assert await dispatcher.drain_once() == 1
            await sender.stop()
            question = server.sent_messages(int(MEMBER))[-1]
            assert question["text"].startswith("📅 Câu hỏi hôm nay (chủ đề: ")
            shown = await delivered(database, member)
            letters = list(buttons_of(question))
            assert letters == ["A", "B", "C", "D"][: len(shown.choices)]
            (feedback,) = await telegram.tap(letters[shown.right])
    assert feedback["text"].startswith(text("quiz.right"))
    assert feedback["text"].endswith(text("daily.again_in", days=3))
    assert await answered(database, member) is True


async def test_on_zalo_a_member_opts_in_with_a_digit_and_answers_with_a_letter(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    clock = Clock()
    member = await member_id(database, MEMBER)
    async with database.session() as session, session.begin():
        account = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == MEMBER)
        )
        assert account is not None
        account.member_id = None  # the member reads the bot on Zalo only
        session.add(linked(member, ZALO_USER, "zalo"))
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_zalo(settings, core):
            server.push_text(ZALO_USER, "/hangngay")
            await server.wait_for("sendMessage", 1, chat_id=ZALO_USER)
            (intro,) = server.sent_texts(ZALO_USER)
            assert intro.startswith(text("daily.intro"))
            assert "\n2. 07:00" in intro
            server.push_text(ZALO_USER, "2")
            await server.wait_for("sendMessage", 2, chat_id=ZALO_USER)
            assert server.sent_texts(ZALO_USER)[-1] == text(
                "daily.subscribed", time="07:00", when=text("daily.tomorrow")
            )
            clock.set(SEVEN_TOMORROW)
            assert await DailyScheduler(database, settings, clock=clock).handle_due(clock()) == 1
            sender = ZaloSender(settings)
            await sender.start()
            dispatcher = Dispatcher(database, {"zalo": sender}, settings=QUICK_RETRIES, clock=clock)
            assert await dispatcher.drain_once() == 1
            await sender.stop()
            question = server.sent_texts(ZALO_USER)[-1]
            assert question.startswith("📅 Câu hỏi hôm nay (chủ đề: ")
            assert question.endswith(text("daily.how_to_answer"))
            shown = await delivered(database, member)
            wrong = "ABCD"[(shown.right + 1) % len(shown.choices)]
            server.push_text(ZALO_USER, wrong.lower())
            await server.wait_for("sendMessage", 4, chat_id=ZALO_USER)
        feedback = server.sent_texts(ZALO_USER)[-1]
    assert feedback.startswith("❌ Chưa đúng. Đáp án đúng: " + "ABCD"[shown.right])
    assert feedback.endswith(text("daily.again_tomorrow"))
    assert await answered(database, member) is False


async def _letters_stored(database: Database, card: str) -> None:
    """Waits until the console account of `card` holds the question's letters: the
    dispatcher stores them once it has delivered (a person does not type that fast)."""
    for _ in range(200):
        async with database.session() as session:
            choices = await session.scalar(
                select(ConversationState.choices)
                .join(ChannelAccount, ChannelAccount.id == ConversationState.account_id)
                .join(Member, Member.id == ChannelAccount.member_id)
                .where(ChannelAccount.channel == "console", Member.card_number == card)
            )
        if choices and choices[0].startswith("A" + KEY_SEPARATOR + "daily:a:"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the daily question's letters were not stored")


async def test_at_the_console_the_question_due_arrives_and_a_letter_answers_it(
    database: Database, settings: Settings, handbook: HandbookIndex
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await seed_activity(session, Shared(settings, handbook, render=render_notice))
        member = await session.scalar(select(Member.id).where(Member.card_number == CONSOLE))
        assert member is not None
    console = Console(settings, "member")
    try:
        # Once the console has greeted (its greeting would clear the letters kept for a
        # question that arrived before it): opted in yesterday for a minute ago, so the
        # daily job owes today's question now; the console's dispatcher delivers it.
        await console.screen.shows("Chào đồng chí Trần Thị Bình")
        now = utcnow().astimezone(settings.timezone)
        minute = max(0, now.hour * 60 + now.minute - 1)
        async with database.session() as session, session.begin():
            session.add(
                DailySubscription(
                    member_id=member, send_minute=minute, since=utcnow() - timedelta(days=1)
                )
            )
        await DailyScheduler(database, settings).handle_due(utcnow())
        await console.expect(f"{text('console.arrived')}\n📅 Câu hỏi hôm nay (chủ đề: ")
        await _letters_stored(database, CONSOLE)
        shown = await delivered(database, member)
        await console.type("ABCD"[shown.right], text("quiz.right"))
        await console.type("/ketqua", text("daily.results", streak=1, answered=1, correct=1))
    finally:
        screen = await console.leave()
    assert screen.count("📅 Câu hỏi hôm nay") == 1
    assert await answered(database, member) is True
