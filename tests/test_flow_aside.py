"""A handbook question asked in the middle of a flow is answered, and the flow waits where
it was with a one-line reminder; anything else still gets the step's hint. On Zalo (the
real adapter and the fake Zalo Bot API) during consent, on Telegram (python-telegram-bot
and the fake Bot API) during practice, and through the core at the card step of linking,
on the attendance board, in the quiz set-up wizard and in a scheduled quiz."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.models import ChannelAccount, Member
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.linking import Answer, Consent
from handlers.notices import render_notice
from handlers.quiz import StartQuiz, _letters
from jobs.quizzes import QuizScheduler
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import grant, labels, linked, say, unit_id
from tests.quiz_harness import BEFORE_OPENING, COMMITTEE, OPENS, schedule
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.telegram_harness import keyboard_labels, running_channel, telegram_settings
from tests.test_attendance import open_checklist
from tests.test_meeting_reminders import HCM, create_meeting
from tests.zalo_harness import running_zalo, zalo_settings

ZALO_USER = "zalo-newcomer"
QUESTION = "dang vien du bi bao lau thi chuyen chinh thuc"
TELEGRAM_USER = 8101


async def _zalo_say(server: FakeZaloServer, body: str, replies: int = 1) -> list[str]:
    before = len(server.sent_texts(ZALO_USER))
    server.push_text(ZALO_USER, body)
    await server.wait_for("sendMessage", before + replies, chat_id=ZALO_USER)
    await asyncio.sleep(0)
    return server.sent_texts(ZALO_USER)[before:]


async def test_on_zalo_a_question_during_consent_is_answered_and_consent_waits(
    database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    expected = handbook.search(QUESTION).entry
    assert expected is not None
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url, SOTAY_PUBLIC_HANDBOOK="1")
        core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
        async with running_zalo(settings, core):
            _, consent = await _zalo_say(server, "/start", replies=2)
            assert consent.endswith("\n\n1. Đồng ý\n2. Không đồng ý")
            # Garbage still gets the step's hint.
            (hint,) = await _zalo_say(server, "asdf qwer")
            answer, reminder = await _zalo_say(server, QUESTION, replies=2)
            # The consent's numbers still answer it: the answer shows none of its own.
            (asked,) = await _zalo_say(server, "1")
    assert answer.startswith(f"{expected.title}\n\n")
    assert "\n1. " not in answer
    assert reminder == text("link.aside_consent")
    assert hint == f"{text('link.consent_pending')}\n\n1. Đồng ý\n2. Không đồng ý"
    assert asked == text("link.ask_code")
    async with database.session() as session:
        account = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == ZALO_USER)
        )
    assert account is not None and account.consent_at is not None


async def test_on_telegram_a_question_during_practice_is_answered_and_practice_waits(
    database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        member_id = await session.scalar(select(Member.id).where(Member.card_number == "90000001"))
        session.add(linked(member_id, str(TELEGRAM_USER)))
    chat = TELEGRAM_USER

    async def typed(body: str, replies: int = 1) -> list[dict]:
        before = len(server.sent_messages(chat))
        server.push_message(chat, body)
        await server.wait_for("sendMessage", before + replies, chat_id=chat)
        return server.sent_messages(chat)[before:]

    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
        async with running_channel(settings, core):
            _, question = await typed("/luyentap", replies=2)
            answer, reminder = await typed("dang phi bao nhieu", replies=2)
            (hint,) = await typed("không biết nữa")
            (verdict,) = await typed("chắc là A")
    count = len(keyboard_labels(question))
    assert question["text"].startswith("Câu 1/5: ")
    assert answer["text"].startswith("Mức đóng đảng phí hằng tháng\n\n")
    # On Telegram the answer keeps its buttons: thumbs and topics.
    assert keyboard_labels(answer)[:2] == [text("handbook.button_up"), text("handbook.button_down")]
    letters = "A hoặc B" if count == 2 else ("A, B hoặc C" if count == 3 else "A, B, C hoặc D")
    shown = {"number": 1, "total": 5, "letters": letters, "example": "ABC"[min(2, count - 1)]}
    assert reminder["text"] == text("quiz.aside", **shown)
    assert hint["text"] == text("quiz.how_to_answer", **shown)
    assert verdict["text"].startswith(("✅", "❌"))
    assert "\n\nCâu 2/5: " in verdict["text"]


async def test_in_a_wizard_a_question_is_answered_and_a_typed_label_gets_the_hint(
    core: ChatCore, units: dict[str, int]
) -> None:
    (kinds,) = await say(core, SECRETARY, "/taohop")
    assert kinds.flat_buttons  # a step that takes only buttons
    (hint,) = await say(core, SECRETARY, "Chi bộ Văn phòng")
    assert hint.text == text("meeting_setup.use_buttons")
    answer, reminder = await say(core, SECRETARY, "chi bộ sinh hoạt thường kỳ mấy lần?")
    assert answer.text.startswith("Sinh hoạt chi bộ thường kỳ")
    assert reminder.text == text("meeting_setup.aside")
    # The wizard is where it was: its buttons still work.
    (following,) = await say(core, SECRETARY, button=kinds.flat_buttons[0].data)
    assert following.text != text("fallback.stale_button")


async def test_at_the_card_step_a_question_is_answered_and_the_card_still_links(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    settings = Settings.from_mapping(
        {"SOTAY_DATABASE_URL": database_url, "SOTAY_PUBLIC_HANDBOOK": "1"}
    )
    core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    newcomer = "8202"
    await say(core, newcomer, "/start")
    (ask_card,) = await say(core, newcomer, button=Consent(Answer.YES).pack())
    assert ask_card.text == text("link.ask_card")
    answer, reminder = await say(core, newcomer, "đảng viên dự bị có được biểu quyết không?")
    assert answer.text.startswith("Quyền của đảng viên dự bị\n\n")
    assert reminder.text == text("link.aside_card")
    (contact,) = await say(core, newcomer, "9000 0005")
    assert contact.text == text("link.ask_contact", button=text("link.button_contact"))


async def test_on_the_attendance_board_a_question_is_answered_and_the_board_stays(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=HCM))
    checklist = await open_checklist(chat, meeting)
    answer, reminder = await say(chat, SECRETARY, "vắng họp chi bộ thì có phải báo trước không?")
    assert answer.text.startswith("Sinh hoạt chi bộ thường kỳ hằng tháng\n\n")
    assert reminder.text == text("attendance.aside")
    (saved,) = await say(chat, SECRETARY, button="atts:save")
    assert saved.text.startswith("Đã lưu điểm danh ")
    assert checklist.flat_buttons


async def test_setting_up_a_quiz_a_question_is_answered_and_the_units_wait(
    database: Database, core: ChatCore, units: dict[str, int]
) -> None:
    await grant(database, SECRETARY, "trainer", COMMITTEE)
    await say(core, SECRETARY, "/taoquiz")
    (menu,) = await say(core, SECRETARY, "Ôn tập Điều lệ")
    assert menu.text == text("quiz_setup.choose_units")
    answer, reminder = await say(core, SECRETARY, "đảng phí đóng bao nhiêu?")
    assert answer.text.startswith("Mức đóng đảng phí hằng tháng\n\n")
    assert reminder.text == text("quiz_setup.aside")
    office = await unit_id(database, "Chi bộ Văn phòng")
    (ticked,) = await say(core, SECRETARY, button=f"qs:unit:{office}")
    assert "☑ Chi bộ Văn phòng" in labels(ticked)


async def test_in_a_scheduled_quiz_a_question_is_answered_and_the_quiz_waits(
    database: Database, settings: Settings, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    clock = Clock(BEFORE_OPENING)
    quiz = await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    clock.set(OPENS)
    await QuizScheduler(database, settings, clock=clock).run_due()
    chat = ChatCore(database, build_router(), Shared(settings, handbook, clock, render_notice))
    (question,) = await say(chat, MEMBER, button=StartQuiz(quiz).pack())
    assert question.text.startswith("Câu 1/3: ")
    answer, reminder = await say(chat, MEMBER, "đảng phí đóng bao nhiêu?")
    assert answer.text.startswith("Mức đóng đảng phí hằng tháng\n\n")
    count = len(question.flat_buttons)
    assert reminder.text == text(
        "quiz.aside", number=1, total=3, letters=_letters(count), example="ABC"[min(2, count - 1)]
    )
    (second,) = await say(chat, MEMBER, "b")
    assert "\n\nCâu 2/3: " in second.text
