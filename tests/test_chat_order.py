"""Messages from different chats are answered at the same time, and messages from one chat
in the order they came, on both messengers (through the real adapters and fake servers);
tests/test_intake.py holds the same for several processes sharing the intake table."""

from __future__ import annotations

import asyncio

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import ChannelTraits, Incoming, Reply
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.telegram_harness import running_channel, telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings


class GatedCore(ChatCore):
    """Echoes every message; one starting with "wait" is held until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.handled: list[str] = []

    async def handle(self, incoming: Incoming, traits: ChannelTraits) -> list[Reply]:
        assert incoming.text is not None
        if incoming.text.startswith("wait"):
            await self.release.wait()
        self.handled.append(incoming.text)
        return [Reply(f"echo {incoming.text}")]


async def test_telegram_answers_another_chat_while_one_waits(
    database_url: str, database: Database
) -> None:
    core = GatedCore()
    async with FakeTelegramServer() as server:
        async with running_channel(telegram_settings(server, database_url), core):
            server.push_message(1, "wait, first")
            server.push_message(1, "second")  # same chat: waits for the first
            server.push_message(2, "other chat")
            await server.wait_for("sendMessage", 1, chat_id=2)
            assert server.sent_messages(1) == []
            core.release.set()
            await server.wait_for("sendMessage", 2, chat_id=1)
        assert [m["text"] for m in server.sent_messages(1)] == ["echo wait, first", "echo second"]
    assert core.handled == ["other chat", "wait, first", "second"]


async def test_zalo_answers_another_chat_while_one_waits(
    database_url: str, database: Database
) -> None:
    core = GatedCore()
    async with FakeZaloServer() as server:
        async with running_zalo(zalo_settings(server, database_url), core):
            server.push_text("z-1", "wait, first")
            server.push_text("z-1", "second")
            server.push_text("z-2", "other chat")
            await server.wait_for("sendMessage", 1, chat_id="z-2")
            assert server.sent_texts("z-1") == []
            core.release.set()
            await server.wait_for("sendMessage", 2, chat_id="z-1")
        assert server.sent_texts("z-1") == ["echo wait, first", "echo second"]
    assert core.handled == ["other chat", "wait, first", "second"]
