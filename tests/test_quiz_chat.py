"""Taking a quiz in chat: a full attempt with feedback and score, resuming, a double tap,
the time limit, closing, a letter typed on Zalo, practice and results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.channels.choices import numbered
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Button, Channel, ChannelTraits, Incoming, Reply
from bot.models import QuizAnswer, QuizAttempt
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from handlers.quiz import StartQuiz
from jobs.dispatcher import Dispatcher
from jobs.quizzes import QuizScheduler
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import linked, say
from tests.outbox_harness import QUICK_RETRIES, statuses, telegram_sender
from tests.quiz_harness import (
    BEFORE_OPENING,
    CLOSES,
    OPENS,
    member_id,
    pick,
    right_shown,
    schedule,
)
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING
from tests.telegram_harness import keyboard_labels, running_channel, telegram_settings

ZALO = ChannelTraits(has_buttons=False, text_limit=2000)


@pytest.fixture
def clock() -> Clock:
    return Clock(BEFORE_OPENING)


@pytest.fixture
async def quiz(database: Database, settings: Settings, clock: Clock, units: dict[str, int]) -> int:
    """An open three-question quiz for Chi bộ Văn phòng, pass mark 60%."""
    quiz_id = await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    clock.set(OPENS)
    await QuizScheduler(database, settings, clock=clock).run_due()
    return quiz_id


async def answers(database: Database) -> list[bool]:
    async with database.session() as session:
        return list(await session.scalars(select(QuizAnswer.correct).order_by(QuizAnswer.id)))


async def test_a_full_attempt_with_feedback_and_a_final_score(
    database: Database, chat: ChatCore, quiz: int
) -> None:
    (first,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    assert first.text.startswith("Câu 1/3: ")
    assert [b.label for b in first.flat_buttons] == ["A", "B", "C", "D"][: len(first.flat_buttons)]
    assert "\nA. " in first.text and "\nB. " in first.text
    # The verdict and the next question come as one message.
    (second,) = await say(chat, MEMBER, button=await pick(database, first, right=True))
    assert second.text.startswith(text("quiz.right") + "\n💡 ")
    assert "\n\nCâu 2/3: " in second.text
    (third,) = await say(chat, MEMBER, button=await pick(database, second, right=False))
    assert third.text.startswith("❌ Chưa đúng. Đáp án đúng: ")
    assert "\n\nCâu 3/3: " in third.text
    (done,) = await say(chat, MEMBER, button=await pick(database, third, right=True))
    assert done.flat_buttons == []
    score = text(
        "quiz.finished",
        title="Tìm hiểu Điều lệ Đảng",
        correct=2,
        total=3,
        score=67,
        verdict=text("quiz.passed", pass_mark=60),
    )
    assert done.text.endswith("\n\n" + score)
    (again,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    assert again.text == text("quiz.no_attempts_left")


async def test_an_interrupted_attempt_resumes_where_it_stopped(
    database: Database, chat: ChatCore, quiz: int
) -> None:
    (first,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    (second,) = await say(chat, MEMBER, button=await pick(database, first, right=True))
    await say(chat, MEMBER, "Đảng phí đóng bao nhiêu?")  # something else in between
    (resumed,) = await say(chat, MEMBER, "/tracnghiem")
    assert resumed.text.startswith("Câu 2/3: ")
    assert second.text.endswith("\n\n" + resumed.text)
    assert resumed.flat_buttons == second.flat_buttons
    (tapped,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    assert tapped.text == resumed.text


async def test_a_double_tap_counts_once(database: Database, chat: ChatCore, quiz: int) -> None:
    (first,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    tap = await pick(database, first, right=False)
    await say(chat, MEMBER, button=tap)
    (repeated,) = await say(chat, MEMBER, button=tap)
    assert repeated.text.startswith(text("quiz.already_answered") + "\n\nCâu 2/3: ")
    assert await answers(database) == [False]


async def test_an_answer_after_the_time_limit_counts_as_wrong(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int], chat: ChatCore
) -> None:
    quiz_id = await schedule(database, clock, [units["Chi bộ Văn phòng"]], seconds_per_question=30)
    clock.set(OPENS)
    await QuizScheduler(database, settings, clock=clock).run_due()
    (first,) = await say(chat, MEMBER, button=StartQuiz(quiz_id).pack())
    assert text("quiz.time_limit", seconds=30) in first.text
    clock.advance(seconds=20)
    (second,) = await say(chat, MEMBER, button=await pick(database, first, right=True))
    clock.advance(seconds=31)
    (late,) = await say(chat, MEMBER, button=await pick(database, second, right=True))
    assert late.text.startswith("⏱ Hết thời gian")
    assert await answers(database) == [True, False]


async def test_an_answer_after_closing_is_refused_politely(
    database: Database, settings: Settings, clock: Clock, chat: ChatCore, quiz: int
) -> None:
    (first,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    clock.set(CLOSES + timedelta(minutes=5))
    await QuizScheduler(database, settings, clock=clock).run_due()
    (refused,) = await say(chat, MEMBER, button=await pick(database, first, right=True))
    assert refused.text == text("quiz.closed")
    assert await answers(database) == []
    (listed,) = await say(chat, MEMBER, "/tracnghiem")
    assert listed.text == text("quiz.open_none")


async def test_other_units_cannot_take_the_quiz(chat: ChatCore, quiz: int) -> None:
    (refused,) = await say(chat, SIBLING, button=StartQuiz(quiz).pack())
    assert refused.text == text("quiz.not_targeted")
    (listed,) = await say(chat, SIBLING, "/tracnghiem")
    assert listed.text == text("quiz.open_none")


async def test_tracnghiem_lists_open_quizzes_with_a_start_button(chat: ChatCore, quiz: int) -> None:
    (listed,) = await say(chat, MEMBER, "/tracnghiem")
    assert listed.text.startswith(text("quiz.open_title"))
    assert [b.data for b in listed.flat_buttons] == [StartQuiz(quiz).pack()]


async def test_on_zalo_a_typed_letter_answers(
    database: Database, chat: ChatCore, quiz: int
) -> None:
    async with database.session() as session, session.begin():
        session.add(linked(await member_id(database, MEMBER), "z-member", "zalo"))

    async def zalo(body: str) -> list[Reply]:
        return await chat.handle(Incoming(Channel.ZALO, "z-member", "z-member", text=body), ZALO)

    (invited,) = await chat.handle(
        Incoming(Channel.ZALO, "z-member", "z-member", button_data=StartQuiz(quiz).pack()), ZALO
    )
    assert text("quiz.answer_by_letter") in invited.text
    ((_, lines),) = numbered([invited])
    assert lines == []  # the letters are in the text already
    correct = await right_shown(database, invited.flat_buttons[0].data)
    letter = "abcdef"[correct]
    (second,) = await zalo(letter)
    assert second.text.startswith(text("quiz.right"))
    assert "\n\nCâu 2/3: " in second.text
    assert await answers(database) == [True]
    await zalo("1")  # numbers still work: the first choice
    assert len(await answers(database)) == 2


def test_keyed_buttons_show_their_key_and_numbers_run_on() -> None:
    reply = Reply(
        "Chọn",
        buttons=(
            (Button("Đồng ý", "ok:1", key="Y"), Button("N", "ok:0", key="N")),
            (Button("Hủy", "cancel:"),),
        ),
    )
    assert numbered([reply]) == [(reply, ["Y. Đồng ý", "3. Hủy"])]


async def test_practice_asks_five_questions_and_keeps_no_result(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    intro, question = await say(chat, MEMBER, "/luyentap")
    assert intro.text == text("quiz.practice_intro", count=5)
    # Text in the middle is still a handbook question, and the practice goes on after it.
    (answer, *_) = await say(chat, MEMBER, "Đảng phí đóng bao nhiêu?")
    assert "đảng phí" in answer.text.lower()
    assert question.text.startswith("Câu 1/5: ")
    for number in range(2, 7):
        (question,) = await say(chat, MEMBER, button=question.flat_buttons[0].data)
        assert question.text.startswith(("✅", "❌"))  # the verdict, then what comes next
        if number <= 5:
            assert f"\n\nCâu {number}/5: " in question.text
    assert "\n\n🎯 Xong phần luyện tập: đúng " in question.text
    (stale,) = await say(chat, MEMBER, button="quizp:1:0:0")
    assert stale.text == text("quiz.practice_stale")
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


async def test_results_show_own_scores_and_the_unit_average_only(
    database: Database, chat: ChatCore, quiz: int
) -> None:
    (none,) = await say(chat, MEMBER, "/ketqua")
    assert none.text == text("quiz.results_none")
    for card, right in ((MEMBER, True), (SECRETARY, False)):
        (question,) = await say(chat, card, button=StartQuiz(quiz).pack())
        for _ in range(3):
            replies = await say(chat, card, button=await pick(database, question, right=right))
            question = replies[-1]
    (mine,) = await say(chat, MEMBER, "/ketqua")
    assert mine.text == "\n".join(
        [
            text("quiz.results_title"),
            text(
                "quiz.results_line",
                title="Tìm hiểu Điều lệ Đảng",
                number=1,
                score=100,
                verdict="đạt",
                unit="Chi bộ Văn phòng",
                average="50%",
            ),
        ]
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


async def drain(database: Database, server: FakeTelegramServer, url: str, clock: Clock) -> None:
    """Runs a dispatcher (on the test's clock) until the outbox has nothing left to send."""
    sender = telegram_sender(server, url)
    await sender.start()
    stop = asyncio.Event()
    worker = Dispatcher(database, {"telegram": sender}, settings=QUICK_RETRIES, clock=clock)
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(200):
            counts = await statuses(database)
            if not counts.get("pending") and not counts.get("sending"):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await sender.stop()


async def test_on_telegram_the_invitation_leads_to_lettered_questions(
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
    server: FakeTelegramServer,
    clock: Clock,
    quiz: int,
) -> None:
    await drain(database, server, database_url, clock)
    (invitation,) = server.sent_messages(int(MEMBER))
    assert keyboard_labels(invitation) == ["Bắt đầu"]
    assert len(server.sent_messages(int(SECRETARY))) == 1
    assert server.sent_messages(int(SIBLING)) == []  # another unit
    settings = telegram_settings(server, database_url)
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, clock, render=render_notice)
    )
    async with running_channel(settings, core):
        server.push_callback(int(MEMBER), StartQuiz(quiz).pack())
        await server.wait_for("sendMessage", 2, chat_id=int(MEMBER))
        question = server.sent_messages(int(MEMBER))[-1]
        assert question["text"].startswith("Câu 1/3: ")
        labels = keyboard_labels(question)
        assert labels == ["A", "B", "C", "D"][: len(labels)]
        rows = question["reply_markup"]["inline_keyboard"]
        data = [button["callback_data"] for row in rows for button in row]
        server.push_callback(int(MEMBER), data[await right_shown(database, data[0])])
        await server.wait_for("sendMessage", 3, chat_id=int(MEMBER))
    (following,) = server.sent_messages(int(MEMBER))[2:]
    assert following["text"].startswith(text("quiz.right"))
    assert "\n\nCâu 2/3: " in following["text"]
    next_labels = keyboard_labels(following)
    assert (
        len(next_labels) >= 2 and next_labels == ["A", "B", "C", "D", "E", "F"][: len(next_labels)]
    )


async def test_a_quiz_answer_pressed_too_late_for_telegram_to_answer_is_still_recorded(
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
    server: FakeTelegramServer,
    clock: Clock,
    quiz: int,
) -> None:
    """Issue #14.2: Telegram refuses answerCallbackQuery for a query older than about 15 s
    (after downtime, behind a backlog); the press is handled first and never dropped."""
    await drain(database, server, database_url, clock)
    settings = telegram_settings(server, database_url)
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, clock, render=render_notice)
    )
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    server.fail_next("answerCallbackQuery", status=400, description=too_old, count=2)
    async with running_channel(settings, core):
        server.push_callback(int(MEMBER), StartQuiz(quiz).pack())
        await server.wait_for("sendMessage", 2, chat_id=int(MEMBER))
        rows = server.sent_messages(int(MEMBER))[-1]["reply_markup"]["inline_keyboard"]
        data = [button["callback_data"] for row in rows for button in row]
        server.push_callback(int(MEMBER), data[await right_shown(database, data[0])])
        await server.wait_for("sendMessage", 3, chat_id=int(MEMBER))
        await server.wait_for("answerCallbackQuery", 2)
    assert [call.ok for call in server.calls_to("answerCallbackQuery")] == [False, False]
    assert await answers(database) == [True]
    assert server.sent_messages(int(MEMBER))[-1]["text"].startswith(text("quiz.right"))
