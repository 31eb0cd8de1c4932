"""The web console over the demo data, served on 127.0.0.1, with helpers to sign in as a
demo member and to deliver what the console queued (a recording sender for the demo's
console accounts)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.channels.delivery import RateLimits
from bot.channels.webapp import build_web_app
from bot.db import Database
from bot.demo import seed_activity, seed_demo
from bot.messages import Channel, Reply
from bot.models import ChannelAccount, Member, Organisation
from bot.services import Services, Shared
from bot.settings import Settings
from bot.web.app import build_admin_app
from handlers.notices import render_notice
from jobs.dispatcher import Dispatcher
from tests.clock import Clock

# Demo card numbers (bot/demo.py).
ADMIN = "90000004"
SECRETARY = "90000001"  # of Chi bộ Văn phòng
SIBLING_SECRETARY = "90000006"  # of Chi bộ Sở Tư pháp
TRAINER = "90000005"
MEMBER = "90000002"
OFFICE = "Chi bộ Văn phòng"
SIBLING = "Chi bộ Sở Tư pháp"
FAST = RateLimits(per_second=500, burst=50, per_chat_interval=0.0)
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class RecordingSender:
    """Delivers to the demo's console accounts by writing down what each chat got."""

    channel: Channel = Channel.CONSOLE
    limits: RateLimits = FAST
    numbered_choices: bool = True
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        self.sent.append((chat_id, reply.text))
        return str(len(self.sent))

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        self.sent.append((chat_id, text))


@dataclass
class Console:
    client: TestClient
    database: Database
    shared: Shared
    clock: Clock
    sender: RecordingSender

    async def link_token(self, card: str) -> str:
        async with self.database.session() as session, session.begin():
            logins = Services.for_session(session, self.shared).web_logins
            return await logins.issue(await logins.member_by_card(card), issued_by="test")

    async def sign_in(self, card: str) -> None:
        response = await self.client.post(
            "/admin/dangnhap", data={"token": await self.link_token(card)}, allow_redirects=False
        )
        assert response.status == 303, await response.text()

    async def csrf(self, path: str = "/admin/") -> str:
        """The CSRF token the forms of a page carry."""
        page = await (await self.client.get(path)).text()
        found = _CSRF.search(page)
        assert found is not None, page
        return found.group(1)

    async def unit(self, name: str) -> int:
        async with self.database.session() as session:
            found = await session.scalar(select(Organisation.id).where(Organisation.name == name))
        assert found is not None
        return found

    async def chat_of(self, card: str) -> str:
        async with self.database.session() as session:
            chat = await session.scalar(
                select(ChannelAccount.chat_id)
                .join(Member, Member.id == ChannelAccount.member_id)
                .where(Member.card_number == card)
            )
        assert chat is not None
        return chat

    async def deliver(self) -> None:
        """Sends everything queued, as the running bot's dispatcher would."""
        dispatcher = Dispatcher(self.database, {Channel.CONSOLE: self.sender}, clock=self.clock)
        while await dispatcher.drain_once():
            pass
        await dispatcher.drain_once()  # records the end of finished notices


async def seeded(database: Database, settings: Settings, clock: Clock) -> Shared:
    shared = Shared(settings, clock=clock, render=render_notice)
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await seed_activity(session, shared)
    return shared


def console_app(database: Database, shared: Shared):  # type: ignore[no-untyped-def]
    return build_web_app(None, None, admin=build_admin_app(database, shared))


@pytest.fixture
async def console(database: Database, settings: Settings, clock: Clock) -> AsyncIterator[Console]:
    shared = await seeded(database, settings, clock)
    async with TestClient(TestServer(console_app(database, shared), host="127.0.0.1")) as client:
        yield Console(client, database, shared, clock, RecordingSender())
