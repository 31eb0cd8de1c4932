"""Questions about the member's own affairs, typed on the console over the demo data, are
answered from the member's data: the coming meetings with «Tham dự» / «Vắng» right there,
quiz results, the linked account, the data file; an account that is not linked is told to
link; the privacy entry stays the handbook's; none is logged for the editors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.channels.choices import numbered
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_activity, seed_demo
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.models import HandbookQuery
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from handlers.own_affairs import Affair, recognise

CONSOLE = ChannelTraits(has_buttons=False, text_limit=4096)
MEETINGS = text("meetings.upcoming_title", unit="Chi bộ Văn phòng")


@pytest.fixture
async def chat(database: Database, shared: Shared) -> ChatCore:
    """The demo data with its meetings and quizzes; the console account is Trần Thị Bình."""
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await seed_activity(session, shared)
    return ChatCore(database, build_router(), shared)


async def _type(chat: ChatCore, body: str, account: str = "demo") -> list[Reply]:
    return await chat.handle(Incoming(Channel.CONSOLE, account, account, text=body), CONSOLE)


async def _logged(database: Database) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(HandbookQuery)) or 0


@pytest.mark.parametrize(
    ("typed", "affair"),
    [
        ("may gio chi bo minh hop", Affair.MEETINGS),
        ("lịch họp của tôi", Affair.MEETINGS),
        ("chi bộ tôi họp ở đâu", Affair.MEETINGS),
        ("kết quả trắc nghiệm của tôi", Affair.RESULTS),
        ("tôi được mấy điểm bài thi", Affair.RESULTS),
        ("tài khoản của tôi liên kết chưa", Affair.ACCOUNT),
        ("xem dữ liệu của tôi", Affair.DATA),
        # The handbook's: rules and how-tos, even in the first person.
        ("bot lưu gì về tôi", None),
        ("thông tin cá nhân của tôi có được bảo mật không", None),
        ("tôi bỏ họp 3 tháng thì bị xử lý thế nào", None),
        ("tôi nghỉ hưu thì sinh hoạt ở đâu", None),
        ("muốn xóa hết dữ liệu của mình trên bot thì gõ j", None),
        ("chi bộ sinh hoạt thường kỳ bao lâu một lần", None),
    ],
)
def test_own_affairs_are_told_from_handbook_questions(typed: str, affair: Affair | None) -> None:
    assert recognise(typed) == affair


async def test_a_linked_member_gets_their_own_meetings_and_answers_them_there(
    chat: ChatCore, database: Database
) -> None:
    logged = await _logged(database)  # the demo's own
    (meetings,) = await _type(chat, "may gio chi bo minh hop")
    assert meetings.text.startswith(f"{MEETINGS}\n• ")
    ((_, lines),) = numbered([meetings])
    assert lines[0].startswith("1. Tham dự · ") and lines[1].startswith("2. Vắng · ")
    (reason,) = await _type(chat, "2")
    assert reason.text == text("meetings.ask_reason")
    (recorded,) = await _type(chat, "Đi công tác")
    assert recorded.text.startswith("Đã ghi nhận")
    (again,) = await _type(chat, "lịch họp của tôi")
    assert again.text == meetings.text
    assert await _logged(database) == logged


async def test_a_linked_member_gets_their_results_account_and_data(
    chat: ChatCore, database: Database
) -> None:
    logged = await _logged(database)  # the demo's own
    (results,) = await _type(chat, "kết quả trắc nghiệm của tôi")
    assert results.text == (await _type(chat, "/ketqua"))[0].text
    assert results.text.startswith(text("quiz.results_title"))
    (account,) = await _type(chat, "tài khoản của tôi liên kết chưa")
    assert account.text == text("own.linked", name="Trần Thị Bình", unit="Chi bộ Văn phòng")
    (data,) = await _type(chat, "xem dữ liệu của tôi")
    assert data.document is not None and data.document.filename == "du-lieu-ca-nhan.json"
    assert await _logged(database) == logged
    (policy, *_) = await _type(chat, "bot lưu gì về tôi")
    assert policy.text.startswith("Dữ liệu cá nhân và quyền riêng tư khi dùng bot\n\n")


async def test_an_account_that_is_not_linked_is_told_to_link(
    database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    settings = Settings.from_mapping(
        {"SOTAY_DATABASE_URL": database_url, "SOTAY_PUBLIC_HANDBOOK": "1"}
    )
    chat = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    async with database.session() as session, session.begin():
        await seed_demo(session)
    (meetings,) = await _type(chat, "may gio chi bo minh hop", "stranger")
    assert meetings.text == text("own.link_first", affair="lịch họp")
    (results,) = await _type(chat, "kết quả trắc nghiệm của tôi", "stranger")
    assert results.text == text("own.link_first", affair="kết quả trắc nghiệm")
    (account,) = await _type(chat, "tài khoản của tôi liên kết chưa", "stranger")
    assert account.text == text("link.not_linked")
