"""One conversation, every messenger: the same steps driven end to end through the Telegram
adapter (python-telegram-bot) and the Zalo adapter, each against its fake API server. A
driver hides how a messenger shows choices (inline buttons, or a numbered list answered with
a digit), so each test states once what a member sees."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import pytest

from bot.chat import ChatCore
from bot.db import Database
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.telegram_harness import running_channel, telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings

NUMBERED = re.compile(r"^\d+\. (.+)$")


@dataclass(frozen=True)
class Shown:
    """One message as the member sees it: its text and the choices offered with it."""

    text: str
    choices: tuple[str, ...] = ()


class Driver(Protocol):
    # Whether the messenger can share a verified phone (Telegram) or needs a code (Zalo).
    shares_contact: bool

    async def say(self, message: str, replies: int = 1) -> list[Shown]:
        """Send a text; return the `replies` messages the bot answered."""
        ...

    async def choose(self, label: str, replies: int = 1) -> list[Shown]:
        """Pick a choice offered in the last answer, the way this messenger does."""
        ...


class TelegramDriver:
    shares_contact = True
    user = 6001

    def __init__(self, server: FakeTelegramServer) -> None:
        self._server = server
        self._buttons: dict[str, str] = {}

    async def say(self, message: str, replies: int = 1) -> list[Shown]:
        before = len(self._server.calls_to("sendMessage", chat_id=self.user))
        self._server.push_message(self.user, message)
        return await self._read(before, replies)

    async def choose(self, label: str, replies: int = 1) -> list[Shown]:
        before = len(self._server.calls_to("sendMessage", chat_id=self.user))
        self._server.push_callback(self.user, self._buttons[label])
        return await self._read(before, replies)

    async def _read(self, before: int, replies: int) -> list[Shown]:
        calls = await self._server.wait_for("sendMessage", before + replies, chat_id=self.user)
        shown: list[Shown] = []
        self._buttons = {}
        for call in calls[before:]:
            markup = call.params.get("reply_markup") or {}
            buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
            self._buttons.update({b["text"]: b["callback_data"] for b in buttons})
            shown.append(Shown(call.params["text"], tuple(b["text"] for b in buttons)))
        return shown


class ZaloDriver:
    shares_contact = False
    user = "c0ffee0123456789"

    def __init__(self, server: FakeZaloServer) -> None:
        self._server = server
        self._choices: list[str] = []

    async def say(self, message: str, replies: int = 1) -> list[Shown]:
        before = len(self._server.calls_to("sendMessage", chat_id=self.user))
        self._server.push_text(self.user, message)
        await self._server.wait_for("sendMessage", before + replies, chat_id=self.user)
        shown = [_numbered(message) for message in self._server.sent_texts(self.user)[before:]]
        # The numbers run on across the messages of one answer.
        self._choices = [choice for item in shown for choice in item.choices]
        return shown

    async def choose(self, label: str, replies: int = 1) -> list[Shown]:
        return await self.say(str(self._choices.index(label) + 1), replies)


def _numbered(message: str) -> Shown:
    """Splits the numbered list off the end of a Zalo message."""
    body, _, last = message.rpartition("\n\n")
    found = [NUMBERED.match(line) for line in last.split("\n")]
    if not body or not all(found):
        return Shown(message)
    return Shown(body, tuple(m[1] for m in found if m))


@pytest.fixture(params=["telegram", "zalo"])
async def member(
    request: pytest.FixtureRequest, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[Driver]:
    """A member who is not linked, on each messenger; the handbook is open to them."""
    if request.param == "telegram":
        async with FakeTelegramServer() as telegram_api:
            settings = telegram_settings(telegram_api, database_url, SOTAY_PUBLIC_HANDBOOK="1")
            core = ChatCore(
                database, build_router(), Shared(settings, handbook, render=render_notice)
            )
            async with running_channel(settings, core):
                yield TelegramDriver(telegram_api)
    else:
        async with FakeZaloServer() as zalo_api:
            settings = zalo_settings(zalo_api, database_url, SOTAY_PUBLIC_HANDBOOK="1")
            core = ChatCore(
                database, build_router(), Shared(settings, handbook, render=render_notice)
            )
            async with running_zalo(settings, core):
                yield ZaloDriver(zalo_api)


async def test_start_consent_and_agree(member: Driver) -> None:
    assert await member.say("/start", replies=2) == [
        Shown(text("start.welcome")),
        Shown(text("link.consent"), ("Đồng ý", "Không đồng ý")),
    ]
    next_step = "link.ask_card" if member.shares_contact else "link.ask_code"
    assert await member.choose("Đồng ý") == [Shown(text(next_step))]


async def test_help_menu_and_privacy(member: Driver) -> None:
    assert await member.say("/help") == [
        Shown(
            text("help.menu"),
            (
                "Hỏi đáp Sổ tay",
                "Lịch họp",
                "Trắc nghiệm",
                "Liên kết tài khoản",
                "Quyền riêng tư",
                "Dành cho bí thư",
                "Giới thiệu bot",
            ),
        )
    ]
    assert await member.choose("Quyền riêng tư") == [Shown(text("help.privacy"))]


async def test_handbook_question_without_diacritics(
    member: Driver, handbook: HandbookIndex
) -> None:
    entry = handbook.search("dang phi bao nhieu").entry
    assert entry is not None
    (answer,) = await member.say("dang phi bao nhieu")
    assert answer.text.startswith(f"{entry.title}\n\n")
    assert f"Nguồn: {entry.source}" in answer.text
    assert answer.choices[:2] == ("👍 Hữu ích", "👎 Chưa đúng")
    related = answer.choices[2]
    (topic,) = await member.choose(related)
    assert topic.text.startswith(related.removesuffix("…"))
    assert "Nguồn: " in topic.text


async def test_an_answer_citing_several_documents_dates_each_of_them(member: Driver) -> None:
    # Each document in the source line carries its own date, none the others'.
    (answer,) = await member.say("dang vien chinh thuc co nhung hinh thuc ky luat nao")
    assert answer.text.startswith("Các hình thức kỷ luật đối với đảng viên chính thức\n\n")
    assert (
        "\n\nNguồn: Quy định 69-QĐ/TW (ngày 06/07/2022), khoản 14 Điều 2, Điều 7; "
        "Điều lệ Đảng (ngày 19/01/2011); Quy định 296-QĐ/TW (ngày 30/05/2025)."
    ) in answer.text


async def test_unknown_command(member: Driver) -> None:
    assert await member.say("/khongco") == [
        Shown(text("fallback.unknown_command", command="khongco"))
    ]


async def test_cancel(member: Driver) -> None:
    await member.say("/start", replies=2)
    assert await member.say("/cancel") == [Shown(text("cancel.done"))]
    assert await member.say("/cancel") == [Shown(text("cancel.nothing"))]
    # After /cancel, text is a question again, not linking input.
    (answer,) = await member.say("dang phi bao nhieu")
    assert "Nguồn: " in answer.text


async def test_a_state_affair_gets_the_honest_not_found(member: Driver) -> None:
    # Civil-servant discipline shares every word but one with the Party's forms of
    # discipline; the bot must not answer it with a Party rule.
    assert await member.say("ky luat cong chuc co may hinh thuc") == [
        Shown(text("handbook.outside", domain="công chức, viên chức"))
    ]
    assert await member.say("cach tinh luong huu") == [
        Shown(text("handbook.outside", domain="lương hưu, chế độ hưu trí"))
    ]


async def test_a_title_answers_its_entry_and_offers_the_close_one(member: Driver) -> None:
    (answer,) = await member.say("quyen cua dang vien")
    assert answer.text.startswith("Quyền của đảng viên\n\n")
    assert answer.text.endswith(text("handbook.did_you_mean", titles="«Quyền của đảng viên dự bị»"))
    assert answer.choices[:3] == ("👍 Hữu ích", "👎 Chưa đúng", "Quyền của đảng viên dự bị")
    (other,) = await member.choose("Quyền của đảng viên dự bị")
    assert other.text.startswith("Quyền của đảng viên dự bị\n\n")


async def test_topics_shown_depend_on_the_question_not_on_the_one_before(
    member: Driver, handbook: HandbookIndex
) -> None:
    (first,) = await member.say("đảng viên dự bị mấy tháng")
    await member.say("dang phi bao nhieu")
    (again,) = await member.say("đảng viên dự bị mấy tháng")
    assert again == first
    assert again.text.startswith("Thời kỳ dự bị của đảng viên mới\n\n")
    fees = {entry.title for entry in handbook.entries if entry.category == "Đảng phí"}
    assert not fees & set(again.choices)


@pytest.mark.parametrize("body", ["👍🙏", "❤️", "🙂🙂🙂"])
async def test_an_emoji_gets_a_kind_word(member: Driver, body: str) -> None:
    assert await member.say(body) == [Shown(text("handbook.emoji"))]
