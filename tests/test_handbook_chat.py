"""Handbook questions in chat, through python-telegram-bot and the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.models import CommitteeQuestion, HandbookQuery, Member
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import linked
from tests.telegram_harness import keyboard_labels, running_channel, telegram_settings

MEMBER, STRANGER = 8001, 8002


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


async def _link(database: Database, user: int, card: str) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        member_id = await session.scalar(select(Member.id).where(Member.card_number == card))
        session.add(linked(member_id, str(user)))


async def _channel(
    server: FakeTelegramServer, database: Database, url: str, handbook: HandbookIndex, **extra: str
) -> TelegramChannel:
    settings = telegram_settings(server, url, **extra)
    return TelegramChannel(
        settings,
        ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice)),
    )


@pytest.fixture
async def telegram(
    server: FakeTelegramServer, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[TelegramChannel]:
    await _link(database, MEMBER, "90000001")
    settings = telegram_settings(server, database_url)
    core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    async with running_channel(settings, core) as channel:
        yield channel


async def ask(server: FakeTelegramServer, body: str, user: int = MEMBER) -> dict:
    before = len(server.calls_to("sendMessage", chat_id=user))
    server.push_message(user, body)
    return (await server.wait_for("sendMessage", before + 1, chat_id=user))[-1].params


async def press(server: FakeTelegramServer, data: str, user: int = MEMBER) -> dict:
    before = len(server.calls_to("sendMessage", chat_id=user))
    server.push_callback(user, data)
    return (await server.wait_for("sendMessage", before + 1, chat_id=user))[-1].params


def _button_data(params: dict, label: str) -> str:
    for row in params["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise AssertionError(f"no button {label!r} in {keyboard_labels(params)}")


async def test_a_question_without_diacritics_gets_the_entry_with_its_source(
    server: FakeTelegramServer,
    telegram: TelegramChannel,
    handbook: HandbookIndex,
    database: Database,
) -> None:
    reply = await ask(server, "dang phi bao nhieu")
    entry = handbook.get("dang-phi-muc-dong")
    assert entry is not None
    assert reply["text"].startswith(entry.title + "\n\n")
    assert f"Nguồn: {entry.source}" in reply["text"]
    labels = keyboard_labels(reply)
    assert labels[:2] == ["👍 Hữu ích", "👎 Chưa đúng"]
    assert 1 <= len(labels) - 2 <= 4  # related topics
    thanks = await press(server, _button_data(reply, "👎 Chưa đúng"))
    assert thanks["text"] == text("handbook.thanks_down")
    async with database.session() as session:
        logged = (await session.scalars(select(HandbookQuery))).all()
    assert [(q.question, q.answered, q.entry_id, q.helpful) for q in logged] == [
        ("dang phi bao nhieu", True, "dang-phi-muc-dong", False)
    ]


async def test_a_related_topic_button_opens_that_entry(
    server: FakeTelegramServer, telegram: TelegramChannel, handbook: HandbookIndex
) -> None:
    reply = await ask(server, "đảng phí đóng bao nhiêu")
    topic = keyboard_labels(reply)[2]
    opened = await press(server, _button_data(reply, topic))
    assert opened["text"].startswith(topic.rstrip("…"))
    assert "Nguồn: " in opened["text"]


async def test_out_of_scope_says_not_found_and_can_go_to_the_committee(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    reply = await ask(server, "thời tiết Hà Nội ngày mai thế nào")
    assert reply["text"] == text("handbook.not_found")
    assert keyboard_labels(reply)[-1] == text("handbook.button_send")
    sent = await press(server, _button_data(reply, text("handbook.button_send")))
    assert sent["text"] == text("handbook.sent")
    async with database.session() as session:
        inbox = (await session.scalars(select(CommitteeQuestion))).all()
        unit = await session.scalar(
            select(Member.organisation_id).where(Member.card_number == "90000001")
        )
    assert [(q.question, q.organisation_id, q.answer) for q in inbox] == [
        ("thời tiết Hà Nội ngày mai thế nào", unit, None)
    ]


@pytest.mark.parametrize("body", ["🙂🙂🙂", "?!?!...", "a" * 1999, "đảng phí " * 200])
async def test_odd_questions_get_a_polite_reply(
    server: FakeTelegramServer, telegram: TelegramChannel, body: str
) -> None:
    reply = await ask(server, body.strip())
    assert reply["text"]
    assert reply["text"] != text("errors.internal")


async def test_browse_by_category(server: FakeTelegramServer, telegram: TelegramChannel) -> None:
    menu = await ask(server, "/chude")
    assert menu["text"] == text("handbook.categories")
    assert "Đảng phí" in keyboard_labels(menu)
    listing = await press(server, _button_data(menu, "Đảng phí"))
    assert listing["text"] == text("handbook.category", name="Đảng phí")
    assert "Mức đóng đảng phí hằng tháng" in keyboard_labels(listing)


async def test_categories_are_in_vietnamese_alphabetical_order(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    shown = keyboard_labels(await ask(server, "/chude"))
    # «Đ…» right after «D…» (or «C…» when no category starts with D), not after «Z…».
    starts = [label[0] for label in shown]
    first_after_d = next(i for i, c in enumerate(starts) if c > "D" and c != "Đ")
    assert starts.index("Đ") < first_after_d
    assert shown.index("Đảng phí") < shown.index("Kết nạp đảng viên")
    assert shown.index("Sinh hoạt chi bộ") < shown.index("Sử dụng chatbot")


async def test_accounts_that_are_not_linked_are_pointed_to_linking(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    assert (await ask(server, "dang phi bao nhieu", STRANGER))["text"] == text(
        "handbook.members_only"
    )
    assert (await ask(server, "/chude", STRANGER))["text"] == text("handbook.members_only")


async def test_a_public_handbook_answers_anyone(
    server: FakeTelegramServer, database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    channel = await _channel(server, database, database_url, handbook, SOTAY_PUBLIC_HANDBOOK="1")
    await channel.start()
    try:
        reply = await ask(server, "dang phi bao nhieu", STRANGER)
        assert reply["text"].startswith("Mức đóng đảng phí hằng tháng")
        not_found = await ask(server, "công thức nấu phở bò ngon", STRANGER)
        assert not_found["text"] == text("handbook.not_found_public")
    finally:
        await channel.stop()


async def test_a_state_affair_is_refused_and_can_go_to_the_committee(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    reply = await ask(server, "doan phi cong doan dong bao nhieu")
    assert reply["text"] == (
        f"{text('handbook.outside', domain='công đoàn')} {text('handbook.offer_committee')}"
    )
    # No Party topic is offered for a trade-union question: only the committee.
    assert keyboard_labels(reply) == [text("handbook.button_send")]
    sent = await press(server, _button_data(reply, text("handbook.button_send")))
    assert sent["text"] == text("handbook.sent")
    async with database.session() as session:
        logged = (await session.scalars(select(HandbookQuery))).all()
        inbox = (await session.scalars(select(CommitteeQuestion))).all()
    assert [(q.question, q.answered, q.entry_id) for q in logged] == [
        ("doan phi cong doan dong bao nhieu", False, None)
    ]
    assert [q.question for q in inbox] == ["doan phi cong doan dong bao nhieu"]


async def test_party_questions_with_everyday_words_are_answered(
    server: FakeTelegramServer, telegram: TelegramChannel, handbook: HandbookIndex
) -> None:
    retired = handbook.get("dang-vien-nghi-huu")
    assert retired is not None
    reply = await ask(server, "đảng viên hưu trí sinh hoạt ở đâu")
    assert reply["text"].startswith(f"{retired.title}\n\n")
    assert keyboard_labels(reply)[:2] == ["👍 Hữu ích", "👎 Chưa đúng"]


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("Chi bộ sinh hoạt thường kỳ bao lâu một lần?", "Sinh hoạt chi bộ thường kỳ hằng tháng"),
        (
            "Quy trình phát triển đảng viên gồm các bước nào?",
            "Chi bộ xét và cấp ủy quyết định kết nạp",
        ),
        (
            "thông tin cá nhân của tôi có được bảo mật không",
            "Dữ liệu cá nhân và quyền riêng tư khi dùng bot",
        ),
        ("đảng viên có những quyền gì", "Quyền của đảng viên"),
        ("quyền của đảng viên", "Quyền của đảng viên"),
    ],
)
async def test_core_questions_get_their_entry(
    server: FakeTelegramServer, telegram: TelegramChannel, body: str, title: str
) -> None:
    reply = await ask(server, body)
    assert reply["text"].startswith(f"{title}\n\n")
    assert "Nguồn: " in reply["text"]


async def test_did_you_mean_opens_the_other_entry(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    reply = await ask(server, "Chi bộ sinh hoạt thường kỳ bao lâu một lần?")
    assert reply["text"].endswith(
        text("handbook.did_you_mean", titles="«Sinh hoạt chuyên đề của chi bộ»")
    )
    assert keyboard_labels(reply)[2] == "Sinh hoạt chuyên đề của chi bộ"
    opened = await press(server, _button_data(reply, "Sinh hoạt chuyên đề của chi bộ"))
    assert opened["text"].startswith("Sinh hoạt chuyên đề của chi bộ\n\n")


@pytest.mark.parametrize(
    ("body", "key"),
    [("👍🙏", "handbook.emoji"), ("❤️", "handbook.emoji"), ("???", "handbook.no_words")],
)
async def test_a_message_without_words_is_answered_kindly_and_not_logged(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database, body: str, key: str
) -> None:
    reply = await ask(server, body)
    assert reply["text"] == text(key)
    assert "reply_markup" not in reply
    async with database.session() as session:
        assert (await session.scalars(select(HandbookQuery))).all() == []
