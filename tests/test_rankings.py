"""Unit rankings: per quiz and per month of daily questions, by participation then average;
unit level by default, a member named only after /tenxephang; trainers see them in chat
(/xephang, on Telegram and Zalo) and in the quiz's workbook; others are refused."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import DailyQuestion, Member, QuizQuestionRow
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from handlers.quiz import StartQuiz
from jobs.quizzes import QuizScheduler
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import grant, linked, say, services
from tests.quiz_harness import COMMITTEE, OPENS, TelegramMember, member_id, pick, schedule
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING
from tests.telegram_harness import running_channel, telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TRAINER = SECRETARY  # also trainer of the whole committee
OFFICE, JUSTICE = "Chi bộ Văn phòng", "Chi bộ Sở Tư pháp"


def line(place: int, unit: str, part: int, took: int, members: int, average: str) -> str:
    return text(
        "rankings.line",
        place=place,
        unit=unit,
        participation=part,
        took_part=took,
        members=members,
        average=average,
    )


async def take_quiz(database: Database, chat: ChatCore, card: str, quiz: int) -> None:
    """Three questions: two right, one wrong (67%)."""
    (shown,) = await say(chat, card, button=StartQuiz(quiz).pack())
    for right in (True, False, True):
        (shown,) = await say(chat, card, button=await pick(database, shown, right=right))


async def test_a_quiz_ranks_units_and_names_only_who_chose_so(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    quiz = await schedule(database, clock, [units[OFFICE], units[JUSTICE]])
    clock.set(OPENS)
    await QuizScheduler(database, settings, clock=clock).run_due()
    await take_quiz(database, chat, MEMBER, quiz)
    (ranked,) = await say(chat, TRAINER, f"/xephang {quiz}")
    title = text("rankings.quiz_title", title="Tìm hiểu Điều lệ Đảng")
    assert ranked.text == "\n".join(
        [title, line(1, OFFICE, 33, 1, 3, "67%"), line(2, JUSTICE, 0, 0, 3, "chưa có")]
    )
    (shown,) = await say(chat, MEMBER, "/tenxephang")
    assert shown.text == text("rankings.name_shown")
    (named,) = await say(chat, TRAINER, f"/xephang {quiz}")
    assert text("rankings.named", names="Lê Minh Châu (67%)") in named.text.split("\n")
    # The quiz's workbook has the ranking too.
    replies = await say(chat, TRAINER, f"/baocaoquiz {quiz}")
    workbook = next(r.document for r in replies if r.document and r.document.filename.endswith("x"))
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["Xếp hạng"]
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows == [[1, OFFICE, 3, 33, 67, "Lê Minh Châu (67%)"], [2, JUSTICE, 3, 0, None, None]]
    (hidden,) = await say(chat, MEMBER, "/tenxephang")
    assert hidden.text == text("rankings.name_hidden")
    (again,) = await say(chat, TRAINER, f"/xephang {quiz}")
    assert "Lê Minh Châu" not in again.text
    # A member is no trainer; a quiz out of sight is refused.
    (refused,) = await say(chat, MEMBER, f"/xephang {quiz}")
    assert refused.text == text("quiz_setup.trainers_only")
    (unknown,) = await say(chat, TRAINER, "/xephang 999")
    assert unknown.text == text("quiz_report.not_allowed", id=999)


async def _answered(database: Database, card: str, day: date, correct: list[bool]) -> None:
    member = await member_id(database, card)
    async with database.session() as session, session.begin():
        unit = await session.scalar(select(Member.organisation_id).where(Member.id == member))
        await services(session).quiz_catalogue.sync_shipped()
        questions = list(await session.scalars(select(QuizQuestionRow.id).limit(len(correct))))
        for offset, (question, right) in enumerate(zip(questions, correct, strict=True)):
            session.add(
                DailyQuestion(
                    member_id=member,
                    organisation_id=unit,
                    day=date(day.year, day.month, day.day + offset),
                    question_id=question,
                    choices=["A", "B"],
                    right=0,
                    sent_at=datetime(2026, 11, 1, tzinfo=HCM),
                    chosen=0 if right else 1,
                    correct=right,
                    answered_at=datetime(2026, 11, 1, tzinfo=HCM),
                )
            )


async def test_a_month_of_daily_questions_ranks_units_in_the_trainers_scope(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    await _answered(database, MEMBER, date(2026, 11, 2), [True, False])  # Văn phòng: 50%
    await _answered(database, SIBLING, date(2026, 11, 3), [True, True, True])  # Tư pháp
    await _answered(database, SIBLING, date(2026, 10, 3), [False])  # last month: not counted
    (ranked,) = await say(chat, TRAINER, "/xephang")
    assert ranked.text == "\n".join(
        [
            text("rankings.daily_title", month="11/2026"),
            line(1, JUSTICE, 33, 1, 3, "100%"),
            line(2, OFFICE, 33, 1, 3, "50%"),
        ]
    )
    # A trainer of one chi bộ sees that chi bộ only.
    await grant(database, SIBLING, "trainer", JUSTICE)
    (own,) = await say(chat, SIBLING, "/xephang")
    assert own.text.split("\n")[1:] == [line(1, JUSTICE, 33, 1, 3, "100%")]


async def test_on_telegram_and_zalo(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    await _answered(database, MEMBER, date(2026, 11, 2), [True])
    clock = Clock()
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_channel(settings, core):
            (ranked,) = await TelegramMember(server, TRAINER).say("/xephang")
    assert ranked["text"].split("\n")[1] == line(1, OFFICE, 33, 1, 3, "100%")
    member = await member_id(database, MEMBER)
    async with database.session() as session, session.begin():
        session.add(linked(member, "zalo-rank", "zalo"))
    async with FakeZaloServer() as zalo:
        settings = zalo_settings(zalo, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_zalo(settings, core):
            zalo.push_text("zalo-rank", "/tenxephang")
            await zalo.wait_for("sendMessage", 1, chat_id="zalo-rank")
    assert zalo.sent_texts("zalo-rank") == [text("rankings.name_shown")]
    async with database.session() as session:
        assert await session.scalar(select(Member.named_in_rankings).where(Member.id == member))
