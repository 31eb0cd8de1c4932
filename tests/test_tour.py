"""The first-run tour: five steps after linking, each with «Tiếp» and «Bỏ qua», replayed by
/huongdan; a secretary's and a trainer's tours follow the member's; skipping ends it; the
adoption report counts a member who linked and asked nothing since, until they ask. On
Telegram (taps through the fake Bot API) and at the console (numbers typed)."""

from __future__ import annotations

from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.keys import Keys
from bot.messages import Channel, Incoming
from bot.models import Member
from bot.services import Shared
from bot.services.adoption import AdoptionService
from bot.services.codes import CodeService
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import TRAITS, button, grant, labels, say
from tests.quiz_harness import TelegramMember, buttons_of
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.telegram_harness import running_channel, telegram_settings
from tests.test_console import Console

NEXT, SKIP, DONE = text("tour.button_next"), text("tour.button_skip"), text("tour.button_done")


def head(track: str, number: int, total: int) -> str:
    return text("tour.step", number=number, total=total, title=text(f"tour.title_{track}"))


async def test_huongdan_replays_the_members_five_steps(
    chat: ChatCore, units: dict[str, int]
) -> None:
    intro, step = await say(chat, MEMBER, "/huongdan")
    assert intro.text == text("tour.replay")
    seen = []
    for number in range(1, 6):
        assert step.text == f"{head('member', number, 5)}\n\n{text(f'tour.member_{number}')}"
        seen.append(labels(step))
        if number < 5:
            (step,) = await say(chat, MEMBER, button=button(step, NEXT))
    assert seen == [[NEXT, SKIP]] * 4 + [[DONE]]
    (ended,) = await say(chat, MEMBER, button=button(step, DONE))
    assert ended.text == text("tour.ended")


async def test_a_secretary_and_trainer_gets_their_own_tours_after_the_members(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    await grant(database, SECRETARY, "trainer", "Chi bộ Văn phòng")
    _, step = await say(chat, SECRETARY, "/huongdan")
    for _ in range(4):
        (step,) = await say(chat, SECRETARY, button=button(step, NEXT))
    assert step.text.startswith(head("member", 5, 5))
    assert labels(step) == [NEXT, SKIP]  # the secretary's tour comes next
    (step,) = await say(chat, SECRETARY, button=button(step, NEXT))
    assert step.text == f"{head('secretary', 1, 4)}\n\n{text('tour.secretary_1')}"
    assert "/thongbao" in step.text
    for _ in range(3):
        (step,) = await say(chat, SECRETARY, button=button(step, NEXT))
    (step,) = await say(chat, SECRETARY, button=button(step, NEXT))
    assert step.text == f"{head('trainer', 1, 4)}\n\n{text('tour.trainer_1')}"
    for _ in range(3):
        (step,) = await say(chat, SECRETARY, button=button(step, NEXT))
    assert labels(step) == [DONE]
    # A plain member pressing a secretary's step (forged) gets the stale-button answer.
    (refused,) = await say(chat, MEMBER, button="tour:secretary:0")
    assert refused.text == text("fallback.stale_button")


async def test_skipping_ends_the_tour_at_any_step(chat: ChatCore, units: dict[str, int]) -> None:
    _, step = await say(chat, MEMBER, "/huongdan")
    (step,) = await say(chat, MEMBER, button=button(step, NEXT))
    (ended,) = await say(chat, MEMBER, button=button(step, SKIP))
    assert ended.text == text("tour.ended")


async def test_linking_starts_the_tour_and_asking_takes_the_member_off_the_idle_count(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int], keys: Keys
) -> None:
    card = "90000002"  # Trần Thị Bình, not linked in the fixture
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == card))
        assert member is not None
        issued = await CodeService(session, keys).issue_for_unit(
            member.organisation_id, issued_by="test", now=clock()
        )
    code = next(c.code for c in issued if c.member_id == member.id)
    account = "zalo-bình"

    async def zalo(body: str | None = None, data: str | None = None) -> list:
        incoming = Incoming(Channel.ZALO, account, account, text=body, button_data=data)
        return await chat.handle(incoming, TRAITS)

    await zalo("/start")
    await zalo(data="consent:yes")
    welcome, step = await zalo(code)
    assert welcome.text.startswith("Liên kết thành công")
    assert step.text.startswith(head("member", 1, 5))

    async def idle() -> int:
        async with database.session() as session:
            rows = await AdoptionService(session).report(units["Chi bộ Văn phòng"])
        return rows[0].idle_after_tour

    assert await idle() == 1
    await zalo(data=button(step, NEXT))  # going through the tour is not asking
    assert await idle() == 1
    await zalo("đảng phí đóng bao nhiêu")
    assert await idle() == 0


async def test_on_telegram_the_tour_is_tapped_through(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database, build_router(), Shared(settings, handbook, Clock(), render=render_notice)
        )
        async with running_channel(settings, core):
            member = TelegramMember(server, MEMBER)
            _, first = await member.say("/huongdan", expect=2)
            assert list(buttons_of(first)) == [NEXT, SKIP]
            (second,) = await member.tap(NEXT)
            assert second["text"].startswith(head("member", 2, 5))
            assert "/lichhop" in second["text"]
            (ended,) = await member.tap(SKIP)
    assert ended["text"] == text("tour.ended")


async def test_at_the_console_the_tour_is_followed_by_numbers(
    database: Database, settings: Settings
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    console = Console(settings, "member")
    try:
        await console.screen.shows("Chào đồng chí Trần Thị Bình")
        await console.type("/huongdan", f"{NEXT}\n  2. {SKIP}")
        await console.type("1", head("member", 2, 5))
        await console.type("2", text("tour.ended"))
    finally:
        await console.leave()
