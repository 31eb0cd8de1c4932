"""/taoquiz: a trainer sets up a quiz in chat with taps (through python-telegram-bot and the
fake Bot API), is kept to the units of their grants, types dates as people type them, and
does the same on Zalo with digits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import AuditEntry, Quiz, QuizTarget
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import grant, linked, say, unit_id
from tests.quiz_harness import (
    COMMITTEE,
    EAST,
    HCM,
    JUSTICE,
    OFFICE,
    TelegramMember,
    buttons_of,
    member_id,
)
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.telegram_harness import running_channel, telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings

TRAINER = SECRETARY  # Văn phòng's secretary is also the trainer of the whole committee
TITLE = "Tìm hiểu Điều lệ Đảng 2026"


def t(key: str, **values: object) -> str:
    return text(f"quiz_setup.{key}", **values)


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Wednesday 25/11/2026, 10:00 in Vietnam


@pytest.fixture
async def telegram(
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
    clock: Clock,
    units: dict[str, int],
) -> AsyncIterator[FakeTelegramServer]:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_channel(settings, core):
            yield server


async def stored_quizzes(database: Database) -> list[tuple[Quiz, list[int]]]:
    async with database.session() as session:
        quizzes = list(await session.scalars(select(Quiz).order_by(Quiz.id)))
        found = []
        for quiz in quizzes:
            targets = await session.scalars(
                select(QuizTarget.organisation_id).where(QuizTarget.quiz_id == quiz.id)
            )
            found.append((quiz, sorted(targets)))
    return found


async def test_a_trainer_sets_up_a_quiz_with_taps(
    database: Database, telegram: FakeTelegramServer, units: dict[str, int]
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    (ask,) = await trainer.say("/taoquiz")
    assert ask["text"] == t("ask_title")
    (menu,) = await trainer.say(f"  {TITLE} ")
    assert menu["text"] == t("choose_units")
    assert list(buttons_of(menu)) == [
        f"☐ {COMMITTEE}",
        f"☐ {JUSTICE}",
        f"☐ {OFFICE}",
        "Tiếp tục",
        "Hủy",
    ]
    await trainer.tap(f"☐ {OFFICE}")
    (menu,) = await trainer.tap(f"☐ {JUSTICE}")
    assert list(buttons_of(menu))[:3] == [f"☐ {COMMITTEE}", f"☑ {JUSTICE}", f"☑ {OFFICE}"]
    # One bank ships with the bot and none was imported: topics come next.
    (topics,) = await trainer.tap("Tiếp tục")
    assert topics["text"] == t("choose_topics")
    assert "☐ Đảng phí (9)" in buttons_of(topics)
    await trainer.tap("☐ Đảng phí (9)")
    await trainer.tap("☐ Kỷ luật và kiểm tra (16)")
    (count,) = await trainer.tap("Tiếp tục")
    assert count["text"] == t("ask_count", pool=25, limit=25)
    assert list(buttons_of(count)) == ["5 câu", "10 câu", "15 câu", "20 câu", "Hủy"]
    (options,) = await trainer.tap("10 câu")
    assert list(buttons_of(options)) == [
        "🔀 Đảo thứ tự câu hỏi: Có",
        "🔀 Đảo thứ tự đáp án: Có",
        "⏱ Thời gian mỗi câu: không giới hạn",
        "🎯 Điểm đạt: 70%",
        "🔁 Số lần được làm: 1",
        "💡 Giải thích sau mỗi câu: Có",
        "Tiếp tục",
        "Hủy",
    ]
    await trainer.tap("⏱ Thời gian mỗi câu: không giới hạn")
    await trainer.tap("⏱ Thời gian mỗi câu: 30 giây")
    await trainer.tap("🔀 Đảo thứ tự đáp án: Có")
    await trainer.tap("🎯 Điểm đạt: 70%")
    (options,) = await trainer.tap("🔁 Số lần được làm: 1")
    assert "⏱ Thời gian mỗi câu: 60 giây" in buttons_of(options)
    assert "🔁 Số lần được làm: 2" in buttons_of(options)
    (opens,) = await trainer.tap("Tiếp tục")
    assert opens["text"] == t("ask_opens")
    (closes,) = await trainer.say("8h sáng mai")
    assert closes["text"] == t("ask_closes", opens="8:00 thứ Năm, 26/11/2026")
    (summary,) = await trainer.tap("Sau 7 ngày")
    assert summary["text"] == t(
        "confirm",
        summary=t(
            "summary",
            title=TITLE,
            units=f"{JUSTICE}, {OFFICE}",
            count=10,
            banks="Kiến thức cơ bản về Điều lệ Đảng",
            topics=t("topics_line", topics="Kỷ luật và kiểm tra, Đảng phí"),
            order="Có",
            choices="Không",
            time="60 giây",
            pass_mark=80,
            tries=2,
            explain="Có",
            opens="8:00 thứ Năm, 26/11/2026",
            closes="8:00 thứ Năm, 03/12/2026",
        ),
    )
    (saved,) = await trainer.tap("Lưu")
    ((quiz, targets),) = await stored_quizzes(database)
    assert saved["text"].startswith(f"✅ Đã lên lịch bài trắc nghiệm #{quiz.id}.")
    assert targets == sorted([units[OFFICE], units[JUSTICE]])
    assert (quiz.title, quiz.bank_ids, quiz.topics, quiz.question_count) == (
        TITLE,
        ["kien-thuc-co-ban"],
        ["Kỷ luật và kiểm tra", "Đảng phí"],
        10,
    )
    assert (quiz.shuffle_questions, quiz.shuffle_choices, quiz.show_explanations) == (
        True,
        False,
        True,
    )
    assert (quiz.seconds_per_question, quiz.pass_mark, quiz.attempts_allowed) == (60, 80, 2)
    assert quiz.opens_at == datetime(2026, 11, 26, 8, 0, tzinfo=HCM)
    assert quiz.closes_at == datetime(2026, 12, 3, 8, 0, tzinfo=HCM)
    trainer_id = await member_id(database, TRAINER)
    assert (quiz.state, quiz.report_to_member_id) == ("scheduled", trainer_id)
    async with database.session() as session:
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "quiz.schedule"))
    assert audit is not None and audit.actor == f"member:{trainer_id}"


async def test_dates_are_checked_and_the_flow_goes_on(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/taoquiz")
    await trainer.say("Ôn tập")
    await trainer.tap(f"☐ {OFFICE}")
    await trainer.tap("Tiếp tục")
    await trainer.tap("Tiếp tục")  # every topic
    await trainer.tap("5 câu")
    await trainer.tap("Tiếp tục")
    (impossible,) = await trainer.say("31/2 lúc 8h")
    assert impossible["text"] == "Ngày 31/2 không có thật."
    (past,) = await trainer.say("24/11 lúc 8h")
    # 24/11 without a year is next year's: the flow reads dates as the meetings do.
    assert past["text"] == t("ask_closes", opens="8:00 thứ Tư, 24/11/2027")
    (earlier,) = await trainer.say("23/11/2027 9h")
    assert earlier["text"] == t(
        "closes_before_opens", closes="9:00 thứ Ba, 23/11/2027", opens="8:00 thứ Tư, 24/11/2027"
    )
    (gone,) = await trainer.say("20/11/2026 9h")
    assert gone["text"] == "Ngày 20/11/2026 đã qua."
    (unread,) = await trainer.say("khi nào rảnh")
    assert unread["text"].startswith("Không hiểu ngày giờ «khi nào rảnh».")
    (summary,) = await trainer.say("17h 1/12/2027")
    assert "🔒 Đóng: 17:00 thứ Tư, 01/12/2027" in summary["text"]
    assert await stored_quizzes(database) == []
    await trainer.tap("Lưu")
    ((quiz, _),) = await stored_quizzes(database)
    assert quiz.closes_at == datetime(2027, 12, 1, 17, 0, tzinfo=HCM)


async def test_a_forged_unit_is_refused_and_nothing_is_stored(
    database: Database, telegram: FakeTelegramServer, units: dict[str, int]
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/taoquiz")
    (menu,) = await trainer.say(TITLE)
    # Chi bộ thôn Đông is in another Party committee: never offered, and refused if forged.
    assert not any(EAST in label for label in buttons_of(menu))
    (forged,) = await trainer.press(f"qs:unit:{await unit_id(database, EAST)}")
    assert forged["text"] == t("trainers_only")
    (nothing, menu) = await trainer.tap("Tiếp tục", expect=2)
    assert (nothing["text"], menu["text"]) == (t("no_units"), t("choose_units"))
    (stale,) = await trainer.press("qs:save")  # not offered at this step
    assert stale["text"] == text("fallback.stale_button")
    (typed,) = await trainer.say("Chi bộ thôn Đông")
    assert typed["text"] == t("use_buttons")
    (done,) = await trainer.tap("Hủy")
    assert done["text"] == text("cancel.done")
    assert await stored_quizzes(database) == []


async def test_a_member_without_the_role_is_refused(
    database: Database, telegram: FakeTelegramServer
) -> None:
    member = TelegramMember(telegram, MEMBER)
    (refused,) = await member.say("/taoquiz")
    assert refused["text"] == t("trainers_only")
    (stale,) = await member.press("qs:unit:1")
    assert stale["text"] == text("fallback.stale_button")
    assert await stored_quizzes(database) == []


async def test_a_trainer_of_one_chi_bo_has_it_chosen_already(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    await grant(database, MEMBER, "trainer", OFFICE)
    clock = Clock()
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, clock, render=render_notice)
        )
        async with running_channel(settings, core):
            trainer = TelegramMember(server, MEMBER)
            await trainer.say("/taoquiz")
            (menu,) = await trainer.say("Ôn tập nhanh")
    assert list(buttons_of(menu)) == [f"☑ {OFFICE}", "Tiếp tục", "Hủy"]


ZALO_TRAINER = "zalo-trainer"


async def test_a_trainer_on_zalo_answers_with_digits(
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
    settings: Settings,
    units: dict[str, int],
) -> None:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    clock = Clock()
    async with database.session() as session, session.begin():
        session.add(linked(await member_id(database, TRAINER), ZALO_TRAINER, "zalo"))
    async with FakeZaloServer() as server:
        zalo = zalo_settings(server, database_url)
        wakes: list[str] = []
        shared = Shared(
            zalo,
            handbook,
            clock,
            notify_schedule=lambda: wakes.append("quiz"),
            render=render_notice,
        )
        core = ChatCore(database, build_router(), shared)
        async with running_zalo(zalo, core):
            sent = 0

            async def say(body: str) -> str:
                nonlocal sent
                server.push_text(ZALO_TRAINER, body)
                sent += 1
                await server.wait_for("sendMessage", sent, chat_id=ZALO_TRAINER)
                return server.sent_texts(ZALO_TRAINER)[-1]

            assert await say("/taoquiz") == t("ask_title")
            menu = await say("Ôn tập Điều lệ")
            assert menu.endswith(
                f"1. ☐ {COMMITTEE}\n2. ☐ {JUSTICE}\n3. ☐ {OFFICE}\n4. Tiếp tục\n5. Hủy"
            )
            assert f"3. ☑ {OFFICE}" in await say("3")
            topics = await say("4")
            assert topics.startswith(t("choose_topics")) and "14. Tiếp tục" in topics
            # No numbered choices here, so "3" is three questions, not the third choice.
            assert await say("14") == t("ask_count_typed", pool=91, limit=91)
            assert (await say("3")).startswith(t("options"))
            assert (await say("7")).startswith(t("ask_opens"))
            assert (await say("1")).startswith(t("ask_closes", opens=t("opens_now")))
            assert (await say("1")).startswith("Đồng chí kiểm tra lại bài trắc nghiệm:")
            assert wakes == []
            saved = await say("1")
    # Saving wakes the quiz scheduler, so a quiz opened "now" sends its invitations now.
    assert wakes == ["quiz"]
    ((quiz, targets),) = await stored_quizzes(database)
    assert saved.startswith(f"✅ Đã lên lịch bài trắc nghiệm #{quiz.id}.")
    assert (targets, quiz.question_count, quiz.topics) == ([units[OFFICE]], 3, [])
    assert quiz.opens_at == clock.now
    assert quiz.closes_at == clock.now + timedelta(days=3)


async def test_odd_input_gets_a_clear_answer(
    database: Database, settings: Settings, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, Clock(), render=render_notice)
    )
    assert (await say(core, TRAINER, "/taoquiz"))[0].text == t("ask_title")
    (long,) = await say(core, TRAINER, "Bài " * 60)
    assert long.text == t("title_too_long", limit=200)
    (menu,) = await say(core, TRAINER, "🎯 Ôn tập 🎉")
    assert menu.text == t("choose_units")
    office = await unit_id(database, OFFICE)
    await say(core, TRAINER, button=f"qs:unit:{office}")
    await say(core, TRAINER, button="qs:next")
    (count,) = await say(core, TRAINER, button="qs:next")
    assert count.text == t("ask_count", pool=91, limit=91)
    for typed in ("mười", "0", "-3", "92", "1.5"):
        (bad,) = await say(core, TRAINER, typed)
        assert bad.text == t("bad_count", limit=91), typed
    for forged in ("qs:count:999", "qs:count:x", "qs:opt:order", "qs:bank:0", "qs:nothing"):
        (stale,) = await say(core, TRAINER, button=forged)
        assert stale.text == text("fallback.stale_button"), forged
    (options,) = await say(core, TRAINER, "12")
    assert options.text == t("options")
    (stale,) = await say(core, TRAINER, button="qs:opt:colour")
    assert stale.text == text("fallback.stale_button")
    assert await stored_quizzes(database) == []
