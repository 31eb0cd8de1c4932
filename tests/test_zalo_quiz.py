"""A quiz on Zalo end to end: the invitation arrives through the outbox with a numbered
choice, "1" starts it, and the member answers by typing a letter."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.zalo import ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.models import ChannelAccount, QuizAnswer
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from jobs.dispatcher import Dispatcher
from jobs.quizzes import QuizScheduler
from tests.clock import Clock
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import linked
from tests.outbox_harness import QUICK_RETRIES
from tests.quiz_harness import BEFORE_OPENING, OPENS, member_id, schedule
from tests.secretaries_harness import MEMBER
from tests.zalo_harness import running_zalo, zalo_settings

ZALO_USER = "zalo-quiz-member"


async def test_a_zalo_member_takes_a_quiz_by_letters(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    clock = Clock(BEFORE_OPENING)
    member = await member_id(database, MEMBER)
    async with database.session() as session, session.begin():
        # The member reads the bot on Zalo only: the Telegram link of the fixture goes.
        account = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == MEMBER)
        )
        assert account is not None
        account.member_id = None
        session.add(linked(member, ZALO_USER, "zalo"))
    await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        clock.set(OPENS)
        assert await QuizScheduler(database, settings, clock=clock).run_due() == 1
        sender = ZaloSender(settings)
        await sender.start()
        dispatcher = Dispatcher(database, {"zalo": sender}, settings=QUICK_RETRIES, clock=clock)
        assert await dispatcher.drain_once() == 1
        await sender.stop()
        (invitation,) = server.sent_texts(ZALO_USER)
        assert invitation.endswith("1. Bắt đầu")
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_zalo(settings, core):
            server.push_text(ZALO_USER, "1")
            await server.wait_for("sendMessage", 2, chat_id=ZALO_USER)
            question = server.sent_texts(ZALO_USER)[-1]
            assert question.startswith("Câu 1/3: ")
            assert text("quiz.answer_by_letter") in question
            server.push_text(ZALO_USER, "b")
            await server.wait_for("sendMessage", 3, chat_id=ZALO_USER)
        (feedback,) = server.sent_texts(ZALO_USER)[2:]
    assert "\n\nCâu 2/3: " in feedback  # the verdict and the next question, one message
    async with database.session() as session:
        (correct,) = list(await session.scalars(select(QuizAnswer.correct)))
    # One answer is stored, and the feedback the member read says whether it was right.
    assert feedback.startswith(text("quiz.right")) == correct
