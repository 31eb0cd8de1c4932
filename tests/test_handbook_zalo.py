"""Handbook answers on Zalo, where topics are numbered choices answered with a digit: the
numbers a member types refer to the last message they were shown, never to an older one."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.channels.zalo import ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.messages import Reply
from bot.models import ChannelAccount, Member, utcnow
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.services.outbox import OutboxService
from handlers import build_router
from jobs.dispatcher import Dispatcher
from tests.fakes.zalo_api import FakeZaloServer
from tests.outbox_harness import QUICK_RETRIES
from tests.zalo_harness import running_zalo, zalo_settings

ZALO_USER = "zalo-member-12"


async def _linked_member(database: Database) -> int:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        member = await session.scalar(select(Member).where(Member.card_number == "90000004"))
        assert member is not None
        session.add(
            ChannelAccount(
                channel="zalo",
                external_id=ZALO_USER,
                chat_id=ZALO_USER,
                member_id=member.id,
                linked_at=utcnow(),
            )
        )
        return member.id


async def _say(server: FakeZaloServer, body: str) -> str:
    before = len(server.sent_texts(ZALO_USER))
    server.push_text(ZALO_USER, body)
    await server.wait_for("sendMessage", before + 1, chat_id=ZALO_USER)
    await asyncio.sleep(0)
    return server.sent_texts(ZALO_USER)[-1]


async def test_a_notice_without_choices_ends_the_previous_answers_numbers(
    database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    member_id = await _linked_member(database)
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        core = ChatCore(database, build_router(), Shared(settings, handbook))
        async with running_zalo(settings, core):
            answer = await _say(server, "dang phi bao nhieu")
            assert answer.startswith("Mức đóng đảng phí hằng tháng\n\n")
            related = answer.rpartition("\n\n")[2].split("\n")[2]
            assert related.startswith("3. ")
            # A notice from the chi bộ arrives through the outbox: it offers no choices.
            async with database.session() as session, session.begin():
                await OutboxService(session).enqueue_members(
                    [member_id], Reply("Họp chi bộ tối thứ Sáu."), kind="broadcast", now=utcnow()
                )
            sender = ZaloSender(settings)
            await sender.start()
            try:
                dispatcher = Dispatcher(database, {"zalo": sender}, settings=QUICK_RETRIES)
                assert await dispatcher.drain_once() == 1
            finally:
                await sender.stop()
            assert server.sent_texts(ZALO_USER)[-1] == "Họp chi bộ tối thứ Sáu."
            # "3" now answers the notice the member sees, not the answer above it.
            reply = await _say(server, "3")
    title = related.removeprefix("3. ")
    assert not reply.startswith(title)
