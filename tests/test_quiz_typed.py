"""Inside a quiz, on every messenger, a typed letter answers, alone or among a few words
("d", "C", "chac la C", "đáp án b"); a handbook question is answered and the quiz waits;
anything else keeps the quiz and says how to answer; nothing typed in it reaches the
editors' list of questions the handbook missed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.models import HandbookQuery, QuizAnswer
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from handlers.quiz import StartQuiz, _letters, typed_letter
from jobs.quizzes import QuizScheduler
from tests.clock import Clock
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import TRAITS, linked, say
from tests.quiz_harness import BEFORE_OPENING, OPENS, member_id, schedule
from tests.secretaries_harness import MEMBER
from tests.zalo_harness import running_zalo, zalo_settings

CONSOLE = ChannelTraits(has_buttons=False, text_limit=4096)
ZALO_USER = "zalo-practice"


@pytest.mark.parametrize(
    ("typed", "choice"),
    [
        ("d", 3),
        ("C", 2),
        ("chac la C", 2),
        ("chắc là c", 2),
        ("đáp án b", 1),
        ("  A.  ", 0),
        ("(b)", 1),
        ("E", None),  # four choices
        ("b hay c", None),
        ("vâng ạ", None),
        ("hôm nay trời đẹp", None),
        ("tôi nghĩ là đáp án đúng nhất là câu b", None),  # a sentence, not an answer
        ("", None),
    ],
)
def test_a_letter_among_a_few_words_is_an_answer(typed: str, choice: int | None) -> None:
    assert typed_letter(typed, 4) == choice


async def _unanswered(database: Database) -> int:
    async with database.session() as session:
        query = select(func.count()).select_from(HandbookQuery).where(~HandbookQuery.answered)
        return await session.scalar(query) or 0


@pytest.mark.parametrize("channel", [Channel.CONSOLE, Channel.TELEGRAM])
async def test_practice_takes_typed_letters_and_keeps_going(
    database: Database, core: ChatCore, units: dict[str, int], channel: Channel
) -> None:
    traits, account = TRAITS, MEMBER  # the fixture links the member on Telegram
    if channel is Channel.CONSOLE:
        traits, account = CONSOLE, "p-member"
        async with database.session() as session, session.begin():
            session.add(linked(await member_id(database, MEMBER), account, channel))

    async def typed(body: str) -> list[Reply]:
        return await core.handle(Incoming(channel, account, account, text=body), traits)

    _, question = await typed("/luyentap")
    assert question.text.startswith("Câu 1/5: ")
    # Letters within each question's choices (questions have two to four).
    for number, answer in ((2, "chac la A"), (3, "đáp án b"), (4, "a")):
        (question,) = await typed(answer)
        assert question.text.startswith(("✅", "❌")), question.text
        assert f"\n\nCâu {number}/5: " in question.text
    count = len(question.flat_buttons)
    shown = {
        "number": 4,
        "total": 5,
        "letters": _letters(count),
        "example": "ABC"[min(2, count - 1)],
    }
    # Not an answer, not a question: the practice waits and says how to answer.
    (hint,) = await typed("trời hôm nay đẹp quá")
    assert hint.text == text("quiz.how_to_answer", **shown)
    (hint,) = await typed("không biết nữa")  # which the handbook search would answer
    assert hint.text == text("quiz.how_to_answer", **shown)
    # A handbook question is answered, then where the practice stands.
    answer, reminder = await typed("dang phi bao nhieu")
    assert answer.text.startswith("Mức đóng đảng phí hằng tháng")
    assert reminder.text == text("quiz.aside", **shown)
    (question,) = await typed("B")
    assert "\n\nCâu 5/5: " in question.text
    (done,) = await typed("a")
    assert "🎯 Xong phần luyện tập" in done.text
    assert await _unanswered(database) == 0


async def test_a_scheduled_quiz_takes_typed_letters_on_telegram(
    database: Database, settings: Settings, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    clock = Clock(BEFORE_OPENING)
    quiz = await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    clock.set(OPENS)
    await QuizScheduler(database, settings, clock=clock).run_due()
    chat = ChatCore(database, build_router(), Shared(settings, handbook, clock, render_notice))
    (question,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    assert question.text.startswith("Câu 1/3: ")
    (hint,) = await say(chat, MEMBER, "không biết nữa")
    count = len(question.flat_buttons)
    assert hint.text == text(
        "quiz.how_to_answer",
        number=1,
        total=3,
        letters=_letters(count),
        example="ABC"[min(2, count - 1)],
    )
    (second,) = await say(chat, MEMBER, "chắc là B")
    assert "\n\nCâu 2/3: " in second.text
    (third,) = await say(chat, MEMBER, "đáp án a")
    assert "\n\nCâu 3/3: " in third.text
    (finished,) = await say(chat, MEMBER, "b")
    assert "Tìm hiểu Điều lệ Đảng" in finished.text
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(QuizAnswer)) == 3
    # The quiz is over: a letter is text again, not an answer.
    (after,) = await say(chat, MEMBER, "B")
    assert not after.text.startswith(("✅", "❌"))
    assert await _unanswered(database) == 1  # only that last "B", typed after the quiz


async def test_on_zalo_practice_takes_a_letter_among_words(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    async with database.session() as session, session.begin():
        session.add(linked(await member_id(database, MEMBER), ZALO_USER, "zalo"))
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))

        async def typed(body: str, replies: int = 1) -> list[str]:
            before = len(server.sent_texts(ZALO_USER))
            server.push_text(ZALO_USER, body)
            await server.wait_for("sendMessage", before + replies, chat_id=ZALO_USER)
            return server.sent_texts(ZALO_USER)[before:]

        async with running_zalo(settings, core):
            _, question = await typed("/luyentap", replies=2)
            (hint,) = await typed("hmm để nghĩ đã")
            (verdict,) = await typed("đáp án là A nhé")
    assert question.startswith("Câu 1/5: ")
    assert hint.startswith("Đồng chí đang làm câu 1/5.")
    assert verdict.startswith(("✅", "❌")) and "\n\nCâu 2/5: " in verdict
    assert await _unanswered(database) == 0
