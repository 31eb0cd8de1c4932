"""A question a day: opting in at a time, the question arriving through the outbox at that
local time once a day (restarts, catch-ups and a changed time included), wrong answers
coming back the next day and right ones later and later, the streak and mastery in
/ketqua, opting out, a member who unlinks, another time zone, and a bank edited under the
running schedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import DailyCard, DailyQuestion, OutboxMessage, QuizQuestionRow
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.services.quizzes import catalogue
from bot.services.quizzes.bank import Difficulty, QuizQuestion
from bot.services.quizzes.catalogue import shipped_banks
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.daily import DailyStop, DailyTime
from handlers.notices import render_notice
from jobs.daily import DailyScheduler
from tests.clock import Clock
from tests.harness import labels, linked, say, services
from tests.quiz_harness import member_id
from tests.secretaries_harness import MEMBER, SECRETARY

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# A Wednesday, 10 o'clock in Vietnam: the member opts in for 07:00, so from tomorrow.
START = datetime(2026, 11, 25, 10, 0, tzinfo=HCM)
SEVEN = 7 * 60


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


async def plan(database: Database, settings: Settings, clock: Clock) -> int:
    """One run of the daily scheduler, as after a wake-up (or a restart: a new one)."""
    return await DailyScheduler(database, settings, clock=clock).handle_due(clock())


async def daily_rows(database: Database) -> list[OutboxMessage]:
    async with database.session() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "daily_question")
                .order_by(OutboxMessage.id)
            )
        )


async def subscribe(chat: ChatCore, card: str, minute: int = SEVEN) -> str:
    (intro,) = await say(chat, card, "/hangngay")
    assert intro.text == text("daily.intro")
    (done,) = await say(chat, card, button=DailyTime(minute).pack())
    return done.text


def answer_data(row: OutboxMessage, right: bool, delivery: DailyQuestion) -> str:
    buttons = [button[1] for button in row.payload["buttons"][0]]
    index = delivery.right if right else (delivery.right + 1) % len(buttons)
    return buttons[index]


async def delivery_of(database: Database, member: int, day: date) -> DailyQuestion:
    async with database.session() as session:
        found = await session.scalar(
            select(DailyQuestion).where(DailyQuestion.member_id == member, DailyQuestion.day == day)
        )
    assert found is not None
    return found


async def card_of(database: Database, member: int, question: int) -> DailyCard:
    async with database.session() as session:
        found = await session.scalar(
            select(DailyCard).where(
                DailyCard.member_id == member, DailyCard.question_id == question
            )
        )
    assert found is not None
    return found


async def test_opting_in_sends_one_question_a_day_at_the_chosen_time_and_to_no_one_else(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    done = await subscribe(chat, MEMBER)
    assert done == text("daily.subscribed", time="07:00", when=text("daily.tomorrow"))
    member = await member_id(database, MEMBER)
    assert await plan(database, settings, clock) == 0  # today's 07:00 was before opting in
    next_due = await DailyScheduler(database, settings, clock=clock).next_due()
    assert next_due == datetime(2026, 11, 26, 7, 0, tzinfo=HCM)
    clock.set(datetime(2026, 11, 26, 6, 59, tzinfo=HCM))
    assert await plan(database, settings, clock) == 0
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM))
    assert await plan(database, settings, clock) == 1
    # Again, and as a restarted process would: nothing more that day.
    assert await plan(database, settings, clock) == 0
    clock.advance(hours=5)
    assert await plan(database, settings, clock) == 0
    (row,) = await daily_rows(database)
    assert row.member_id == member and row.status == "pending"
    assert row.idempotency_key == f"daily:2026-11-26/m{member}"
    assert row.payload["text"].startswith("📅 Câu hỏi hôm nay (chủ đề: ")
    assert "\nA. " in row.payload["text"] and "\nB. " in row.payload["text"]
    assert [b[0] for b in row.payload["buttons"][0]][:2] == ["A", "B"]
    # Changing the time after today's question does not send a second one today.
    (changed,) = await say(chat, MEMBER, button=DailyTime(20 * 60).pack())
    assert changed.text == text("daily.subscribed", time="20:00", when=text("daily.tomorrow"))
    clock.set(datetime(2026, 11, 26, 20, 30, tzinfo=HCM))
    assert await plan(database, settings, clock) == 0
    clock.set(datetime(2026, 11, 27, 20, 0, tzinfo=HCM))
    assert await plan(database, settings, clock) == 1
    assert {r.member_id for r in await daily_rows(database)} == {member}


async def test_a_wrong_answer_comes_back_the_next_day_and_a_right_one_later_and_later(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await subscribe(chat, MEMBER)
    member = await member_id(database, MEMBER)
    day = date(2026, 11, 26)
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM))
    await plan(database, settings, clock)
    first = await delivery_of(database, member, day)
    (row,) = await daily_rows(database)
    (wrong,) = await say(chat, MEMBER, button=answer_data(row, False, first))
    assert wrong.text.startswith("❌ Chưa đúng. Đáp án đúng: ")
    assert wrong.text.endswith(text("daily.again_tomorrow"))
    (again,) = await say(chat, MEMBER, button=answer_data(row, True, first))
    assert again.text == text("daily.already_answered")
    card = await card_of(database, member, first.question_id)
    assert (card.box, card.due_on) == (1, day + timedelta(days=1))
    # The next day, the same question comes back; right now, it waits three days.
    clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=HCM))
    await plan(database, settings, clock)
    second = await delivery_of(database, member, day + timedelta(days=1))
    assert second.question_id == first.question_id
    row = (await daily_rows(database))[-1]
    (right,) = await say(chat, MEMBER, button=answer_data(row, True, second))
    assert right.text.startswith(text("quiz.right") + "\n💡 ")
    assert right.text.endswith(text("daily.again_in", days=3))
    # The next two days bring other questions; three days on it is due again, and a right
    # answer moves it on to seven days.
    for offset in (2, 3):
        clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM) + timedelta(days=offset))
        await plan(database, settings, clock)
        other = await delivery_of(database, member, day + timedelta(days=offset))
        assert other.question_id != first.question_id
    clock.set(datetime(2026, 11, 30, 7, 0, tzinfo=HCM))
    await plan(database, settings, clock)
    back = await delivery_of(database, member, date(2026, 11, 30))
    assert back.question_id == first.question_id
    (later,) = await say(
        chat, MEMBER, button=answer_data((await daily_rows(database))[-1], True, back)
    )
    assert later.text.endswith(text("daily.again_in", days=7))


async def test_results_show_the_streak_and_mastery_by_topic(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    (none,) = await say(chat, MEMBER, "/ketqua")
    assert none.text == text("quiz.results_none")
    await subscribe(chat, MEMBER)
    member = await member_id(database, MEMBER)
    for offset in range(3):
        clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM) + timedelta(days=offset))
        await plan(database, settings, clock)
        delivery = await delivery_of(database, member, clock().astimezone(HCM).date())
        row = (await daily_rows(database))[-1]
        await say(chat, MEMBER, button=answer_data(row, offset != 1, delivery))
    (results,) = await say(chat, MEMBER, "/ketqua")
    assert results.text.startswith(text("daily.results", streak=3, answered=3, correct=2))
    assert text("daily.mastery_title") in results.text
    async with database.session() as session:
        topics = set(
            await session.scalars(
                select(QuizQuestionRow.topic)
                .join(DailyQuestion, DailyQuestion.question_id == QuizQuestionRow.id)
                .where(DailyQuestion.member_id == member)
            )
        )
    for topic in topics:
        assert f"• {topic}: thuộc 0/" in results.text  # box 2 at most: none mastered yet
    # A day without an answer breaks the streak.
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=HCM))
    (later,) = await say(chat, MEMBER, "/ketqua")
    assert later.text.startswith(text("daily.results", streak=0, answered=3, correct=2))


async def test_opting_out_stops_the_questions(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await subscribe(chat, MEMBER)
    (status,) = await say(chat, MEMBER, "/hangngay")
    assert status.text == text("daily.status", time="07:00")
    assert "07:00 ✓" in labels(status) and text("daily.button_stop") in labels(status)
    (stopped,) = await say(chat, MEMBER, button=DailyStop().pack())
    assert stopped.text == text("daily.stopped")
    (twice,) = await say(chat, MEMBER, button=DailyStop().pack())
    assert twice.text == text("daily.not_subscribed")
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM))
    assert await plan(database, settings, clock) == 0
    assert await daily_rows(database) == []
    (intro,) = await say(chat, MEMBER, "/hangngay")
    assert intro.text == text("daily.intro")


async def test_a_member_who_unlinks_gets_nothing_more(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await subscribe(chat, MEMBER)
    await subscribe(chat, SECRETARY)
    (question,) = await say(chat, MEMBER, "/huylienket")
    await say(chat, MEMBER, button=question.flat_buttons[0].data)
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM))
    assert await plan(database, settings, clock) == 1
    secretary = await member_id(database, SECRETARY)
    assert [r.member_id for r in await daily_rows(database)] == [secretary]


async def test_the_time_is_the_local_time_of_sotay_timezone(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    settings = Settings.from_mapping(
        {"SOTAY_DATABASE_URL": database_url, "SOTAY_TIMEZONE": "Asia/Tokyo"}
    )
    clock = Clock(datetime(2026, 11, 25, 23, 30, tzinfo=tokyo))
    chat = ChatCore(
        database, build_router(), Shared(settings, handbook, clock, render=render_notice)
    )
    await subscribe(chat, MEMBER)
    # 07:00 in Tokyo is 05:00 in Vietnam: due then, not at 07:00 Vietnam time.
    assert await DailyScheduler(database, settings, clock=clock).next_due() == datetime(
        2026, 11, 26, 7, 0, tzinfo=tokyo
    )
    clock.set(datetime(2026, 11, 26, 6, 59, tzinfo=tokyo))
    assert await plan(database, settings, clock) == 0
    clock.set(datetime(2026, 11, 26, 5, 0, tzinfo=HCM))
    assert await plan(database, settings, clock) == 1
    member = await member_id(database, MEMBER)
    await delivery_of(database, member, date(2026, 11, 26))


async def test_a_bank_edited_under_the_running_schedule(
    database: Database,
    settings: Settings,
    chat: ChatCore,
    clock: Clock,
    units: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer is marked against the choices the member read; the next day's question
    is the edited one, and a question added to a bank is asked like the others."""
    await subscribe(chat, MEMBER)
    member = await member_id(database, MEMBER)
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM))
    await plan(database, settings, clock)
    first = await delivery_of(database, member, date(2026, 11, 26))
    # The shipped bank's file is edited and deployed: the rows follow it at the next sync.
    async with database.session() as session:
        row = await session.get(QuizQuestionRow, first.question_id)
        assert row is not None
    (bank,) = [b for b in shipped_banks() if b.id == row.bank_id]
    edited = tuple(
        replace(
            q,
            question="Câu hỏi đã sửa: " + q.question,
            choices=("Đáp án mới", *q.choices[1:]),
            answer=(q.answer + 1) % len(q.choices),
        )
        if q.id == row.question_id
        else q
        for q in bank.questions
    )
    monkeypatch.setattr(catalogue, "shipped_banks", lambda: (replace(bank, questions=edited),))
    (sent,) = await daily_rows(database)
    (reply,) = await say(chat, MEMBER, button=answer_data(sent, False, first))
    assert reply.text.startswith("❌ Chưa đúng. Đáp án đúng: ")
    assert first.choices[first.right] in reply.text  # what the member was shown
    clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=HCM))
    await plan(database, settings, clock)
    second = (await daily_rows(database))[-1]
    assert "Câu hỏi đã sửa: " in second.payload["text"]
    assert "Đáp án mới" in second.payload["text"]
    # A new question added to an imported bank is in the pool from the next day on.
    async with database.session() as session, session.begin():
        added = QuizQuestion(
            id="moi-1",
            question="Câu hỏi mới thêm?",
            choices=("Có", "Không"),
            answer=0,
            explanation="Vì đã thêm.",
            topic="Chủ đề mới",
            difficulty=Difficulty.EASY,
        )
        await services(session, clock).quiz_catalogue.import_bank("moi", [added], actor="test")
        new_id = await session.scalar(
            select(QuizQuestionRow.id).where(QuizQuestionRow.bank_id == "moi")
        )
    async with database.session() as session, session.begin():
        pool = await services(session, clock).daily.pool_ids()
    assert new_id in pool and first.question_id in pool


async def test_withdrawing_consent_stops_the_questions_for_good(
    database: Database, settings: Settings, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await subscribe(chat, MEMBER)
    (question,) = await say(chat, MEMBER, "/rutdongy")
    await say(chat, MEMBER, button=question.flat_buttons[0].data)
    async with database.session() as session, session.begin():
        # Linked again later (by a secretary's code, say): the questions do not restart.
        member = await member_id(database, MEMBER)
        session.add(linked(member, "other-account"))
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=HCM))
    assert await plan(database, settings, clock) == 0
