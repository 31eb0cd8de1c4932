"""A question a day: /hangngay opts in at a chosen time, the scheduler queues one question a
day through the outbox only to those who opted in, a wrong answer comes back the next day
and a right one later (Leitner boxes), /ketqua shows the streak and mastery, and opting out
stops it. Edge cases: the process down past the grace period, a member who unlinked, a
question removed from the bank, a time zone with summer time; the dispatcher delivers the
question with its letter buttons through the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.chat import ChatCore
from bot.db import Database
from bot.models import (
    ChannelAccount,
    DailyCard,
    DailySend,
    DailySubscription,
    Member,
    OutboxMessage,
)
from bot.services import daily as daily_service
from bot.services.daily import next_moment
from bot.services.outbox import from_payload
from bot.settings import Settings
from bot.texts import text
from handlers.daily import DailyAnswerButton
from jobs.daily import DailyScheduler
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import button, labels, say
from tests.quiz_harness import HCM
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.test_dispatcher import drain

PRESETS = ["06:30", "12:00", "19:00", "21:00"]


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


async def subscribe(chat: ChatCore, card: str = MEMBER, label: str = "19:00") -> str:
    (intro,) = await say(chat, card, "/hangngay")
    (done,) = await say(chat, card, button=button(intro, label))
    return done.text


async def run(database: Database, settings: Settings, clock: Clock) -> int:
    return await DailyScheduler(database, settings, clock=clock).run_due()


async def questions(database: Database) -> list[OutboxMessage]:
    async with database.session() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "daily").order_by(OutboxMessage.id)
        )
        return list(rows)


async def sends(database: Database) -> list[DailySend]:
    async with database.session() as session:
        return list(await session.scalars(select(DailySend).order_by(DailySend.id)))


async def card_of(database: Database, key: str) -> DailyCard:
    async with database.session() as session:
        found = await session.scalar(select(DailyCard).where(DailyCard.question_key == key))
    assert found is not None
    return found


def answer_data(row: OutboxMessage, right: bool, send: DailySend) -> str:
    shown = send.right_shown if right else (send.right_shown + 1) % len(send.order)
    return DailyAnswerButton(send.id, shown).pack()


async def test_opt_in_receive_answer_and_see_progress(
    chat: ChatCore, database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    (intro,) = await say(chat, MEMBER, "/hangngay")
    assert intro.text == text("daily.intro_off")
    assert labels(intro) == PRESETS
    (done,) = await say(chat, MEMBER, button=button(intro, "19:00"))
    assert done.text == text("daily.subscribed", time="19:00", next="19:00 ngày 25/11/2026")
    async with database.session() as session:
        sub = await session.scalar(select(DailySubscription))
    assert sub is not None and (sub.minute, sub.active, sub.next_at) == (19 * 60, True, at(25, 19))
    (again,) = await say(chat, MEMBER, "/hangngay")
    assert again.text == text("daily.intro_on", time="19:00", next="19:00 ngày 25/11/2026")
    assert labels(again) == [*PRESETS, text("daily.button_stop")]

    clock.set(at(25, 18, 59))
    assert await run(database, settings, clock) == 0
    clock.set(at(25, 19))
    assert await run(database, settings, clock) == 1
    assert await run(database, settings, clock) == 0  # one a day
    (row,) = await questions(database)
    (send,) = await sends(database)
    question = daily_service.pool()[send.question_key]
    reply = from_payload(row.payload)
    assert row.chat_id == MEMBER and row.status == "pending"
    assert reply.text == "\n".join(
        [
            text("daily.question", topic=question.topic, question=question.question),
            "",
            *(f"{'ABCD'[i]}. {question.choices[c]}" for i, c in enumerate(send.order)),
        ]
    )
    assert labels(reply) == list("ABCD")[: len(send.order)]
    assert sorted(send.order) == list(range(len(question.choices)))
    assert question.choices[send.order[send.right_shown]] == question.choices[question.answer]

    # A wrong answer: told the right one, and the question comes back tomorrow.
    (verdict,) = await say(chat, MEMBER, button=answer_data(row, False, send))
    right = question.choices[question.answer]
    assert verdict.text == "\n".join(
        [
            text("quiz.wrong", letter="ABCD"[send.right_shown], choice=right),
            text("quiz.explanation", explanation=question.explanation),
            text("daily.wrong_tomorrow"),
        ]
    )
    (twice,) = await say(chat, MEMBER, button=answer_data(row, True, send))
    assert twice.text == text("quiz.already_answered")
    card = await card_of(database, send.question_key)
    assert (card.box, card.due_on) == (1, date(2026, 11, 26))

    clock.set(at(26, 19))
    assert await run(database, settings, clock) == 1
    second = (await sends(database))[-1]
    assert second.question_key == send.question_key  # the wrong one, again
    (verdict,) = await say(chat, MEMBER, button=answer_data(row, True, second))
    assert verdict.text.startswith(text("quiz.right"))
    assert verdict.text.endswith(text("daily.right_later", days=2))
    assert (await card_of(database, send.question_key)).box == 2

    clock.set(at(27, 19))
    assert await run(database, settings, clock) == 1
    third = (await sends(database))[-1]
    assert third.question_key != send.question_key  # a new one; the right one waits
    (progress,) = await say(chat, MEMBER, "/ketqua")
    topics = sorted({question.topic, daily_service.pool()[third.question_key].topic})
    expected = [
        text("daily.progress", streak=2, answered=2, correct=1),
        text("daily.progress_topics"),
        *(
            text("daily.progress_topic", topic=t, mastered=0, seen=1 if len(topics) == 2 else 2)
            for t in topics
        ),
    ]
    assert progress.text == "\n".join(expected)

    # Opting out: nothing more is sent.
    (off,) = await say(chat, MEMBER, "/hangngay")
    (stopped,) = await say(chat, MEMBER, button=button(off, text("daily.button_stop")))
    assert stopped.text == text("daily.stopped")
    clock.set(at(28, 19))
    assert await run(database, settings, clock) == 0
    assert len(await questions(database)) == 3
    assert (await say(chat, MEMBER, button=button(off, text("daily.button_stop"))))[0].text == text(
        "daily.not_subscribed"
    )


async def test_only_those_who_opted_in_get_questions(
    chat: ChatCore, database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    (typed,) = await say(chat, SECRETARY, "/hangngay 20h15")
    assert typed.text == text("daily.subscribed", time="20:15", next="20:15 ngày 25/11/2026")
    (bad,) = await say(chat, MEMBER, "/hangngay 25:00")
    assert bad.text == text("daily.bad_time")
    clock.set(at(25, 21))
    assert await run(database, settings, clock) == 1
    assert [row.chat_id for row in await questions(database)] == [SECRETARY]


async def test_no_question_after_the_grace_period_or_for_an_unlinked_member(
    chat: ChatCore, database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await subscribe(chat, MEMBER, "19:00")
    await subscribe(chat, SECRETARY, "21:00")
    # The secretary unlinked; the member's 19:00 question is 8 hours late (grace: 6).
    async with database.session() as session, session.begin():
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.external_id == SECRETARY)
            .values(member_id=None)
        )
    clock.set(at(26, 3))
    assert await run(database, settings, clock) == 0
    assert await questions(database) == []
    async with database.session() as session:
        next_at = dict(
            (
                await session.execute(select(DailySubscription.minute, DailySubscription.next_at))
            ).all()
        )
    assert next_at == {19 * 60: at(26, 19), 21 * 60: at(26, 21)}
    # A member who left the roster gets nothing either.
    async with database.session() as session, session.begin():
        await session.execute(
            update(Member).where(Member.card_number == MEMBER).values(active=False)
        )
    clock.set(at(26, 19))
    assert await run(database, settings, clock) == 0


async def test_a_question_removed_from_the_bank_is_no_longer_asked(
    chat: ChatCore,
    database: Database,
    settings: Settings,
    clock: Clock,
    units: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await subscribe(chat)
    clock.set(at(25, 19))
    assert await run(database, settings, clock) == 1
    (first,) = await sends(database)
    (row,) = await questions(database)
    edited = {k: q for k, q in daily_service.pool().items() if k != first.question_key}
    monkeypatch.setattr(daily_service, "pool", lambda: edited)
    # Answered after the edit: judged as it was shown.
    (verdict,) = await say(chat, MEMBER, button=answer_data(row, False, first))
    assert verdict.text == "\n".join(
        [
            text("daily.wrong_edited", letter="ABCD"[first.right_shown]),
            text("daily.wrong_tomorrow"),
        ]
    )
    clock.set(at(26, 19))
    assert await run(database, settings, clock) == 1
    assert (await sends(database))[-1].question_key != first.question_key


def test_the_chosen_time_follows_the_local_clock_across_summer_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2027, 3, 27, 7, 0, tzinfo=berlin)
    first = next_moment(6 * 60 + 30, before, berlin)
    second = next_moment(6 * 60 + 30, first, berlin)
    assert first == datetime(2027, 3, 28, 6, 30, tzinfo=berlin)
    assert (first.utcoffset(), second.utcoffset()) == (
        datetime(2027, 3, 28, 12, tzinfo=berlin).utcoffset(),
        datetime(2027, 3, 29, 12, tzinfo=berlin).utcoffset(),
    )
    assert second.astimezone(berlin).hour == 6 and second.day == 29
    # Vietnam keeps no summer time: the same UTC hour every day.
    hcm = next_moment(19 * 60, datetime(2026, 11, 25, 19, 0, tzinfo=HCM), HCM)
    assert hcm == datetime(2026, 11, 26, 19, 0, tzinfo=HCM)


async def test_the_dispatcher_delivers_the_question_with_letter_buttons(
    chat: ChatCore,
    database: Database,
    settings: Settings,
    clock: Clock,
    units: dict[str, int],
    server: FakeTelegramServer,
    database_url: str,
) -> None:
    await subscribe(chat)
    clock.set(at(25, 19))
    assert await run(database, settings, clock) == 1
    await drain(database, server, database_url)
    (sent,) = server.sent_messages(int(MEMBER))
    (send,) = await sends(database)
    assert sent["text"].startswith("❓ ")
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in keyboard[0]] == list("ABCD")[: len(send.order)]
    data = keyboard[0][send.right_shown]["callback_data"]
    (verdict,) = await say(chat, MEMBER, button=data)
    assert verdict.text.startswith(text("quiz.right"))
    assert (await sends(database))[0].correct is True
