"""A broadcast to members on Zalo through the outbox dispatcher and the fake Zalo Bot API: a
storm of 429 answers, and a token revoked in the middle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.channels.delivery import RetryLater
from bot.channels.zalo import ZaloSender
from bot.db import Database
from bot.messages import Reply
from jobs.dispatcher import Dispatcher
from tests.fakes.zalo_api import FakeZaloServer
from tests.outbox_harness import QUICK_RETRIES, add_unit, statuses
from tests.test_dispatcher import broadcast_to
from tests.zalo_harness import zalo_settings

MEMBERS = 30
RETRY_AFTER = 1
NOTICE_START = "📢 THÔNG BÁO"


class WatchedZaloSender(ZaloSender):
    """Notes when the dispatcher began each delivery and when it was told to slow down."""

    started: list[tuple[float, str]]
    refused: list[float]

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        self.started.append((time.monotonic(), chat_id))
        try:
            return await super().deliver(chat_id, reply)
        except RetryLater:
            self.refused.append(time.monotonic())
            raise


@pytest.fixture
async def server() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as fake:
        yield fake


async def _sender(server: FakeZaloServer, database_url: str) -> WatchedZaloSender:
    settings = zalo_settings(server, database_url, ZALO_RATE_PER_SECOND="200")
    sender = WatchedZaloSender(settings)
    sender.started, sender.refused = [], []
    await sender.start()
    return sender


async def _until_none(database: Database, *busy: str) -> dict[str, int]:
    """Polls the outbox until it has no row in the `busy` statuses; returns the counts."""
    for _ in range(200):
        counts = await statuses(database)
        if not any(counts.get(status) for status in busy):
            return counts
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox not settled: {counts}")


async def _logged(caplog: pytest.LogCaptureFixture, level: int) -> None:
    for _ in range(200):
        if any(record.levelno == level for record in caplog.records):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing logged at {logging.getLevelName(level)}")


async def test_a_429_storm_pauses_zalo_and_every_member_gets_the_notice_once(
    server: FakeZaloServer, database: Database, database_url: str
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ Zalo"], linked=MEMBERS, channel="zalo")
    chats = [str(chat) for chat in unit.chats]
    await broadcast_to(database, unit.id)
    server.rate_limit(5, retry_after=RETRY_AFTER)
    sender = await _sender(server, database_url)
    stop = asyncio.Event()
    task = asyncio.create_task(
        Dispatcher(database, {"zalo": sender}, settings=QUICK_RETRIES).run(stop)
    )
    try:
        assert await _until_none(database, "pending", "sending") == {"sent": MEMBERS}
    finally:
        stop.set()
        await task
        await sender.stop()

    for chat in chats:
        (notice,) = server.sent_texts(chat)
        assert notice.startswith(NOTICE_START) and "Họp chi bộ 19h thứ Sáu." in notice
    sends = server.calls_to("sendMessage")
    storm = [call for call in sends if call.error_code == 429]
    assert len(storm) == 5 and len(sender.refused) == 5
    # Each refused notice went again only after the pause Zalo asked for.
    for refused in storm:
        (retried,) = [c for c in sends if c.chat_id == refused.chat_id and c.ok]
        assert retried.time >= refused.time + RETRY_AFTER
    # Once told, the dispatcher began no delivery until retry_after had passed ...
    for told in sender.refused:
        assert not [at for at, _ in sender.started if told < at < told + RETRY_AFTER]
    # ... so what reached Zalo during a pause had left before the first 429 came back.
    on_the_way = {chat for at, chat in sender.started if at < min(sender.refused)}
    for refused in storm:
        during = {c.chat_id for c in sends if refused.time < c.time < refused.time + RETRY_AFTER}
        assert during <= on_the_way


async def test_a_revoked_token_stops_zalo_and_keeps_the_rest_pending(
    server: FakeZaloServer,
    database: Database,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ Zalo"], linked=MEMBERS, channel="zalo")
    chats = [str(chat) for chat in unit.chats]
    await broadcast_to(database, unit.id)
    settings = replace(QUICK_RETRIES, batch_size=10)
    sender = await _sender(server, database_url)
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatcher(database, {"zalo": sender}, settings=settings).run(stop))
    try:
        await server.wait_for("sendMessage", 10)
        server.token = "1234567890:new-key-after-a-reset"  # the old token is now refused
        await _logged(caplog, logging.CRITICAL)
        counts = await _until_none(database, "sending")
        calls = len(server.calls)
        await asyncio.sleep(0.3)  # six polls of the dispatcher
        assert len(server.calls) == calls  # Zalo's sender stopped
    finally:
        stop.set()
        await task
        await sender.stop()

    delivered = [chat for chat in chats if server.sent_texts(chat)]
    assert 10 <= len(delivered) < MEMBERS
    assert counts == {"sent": len(delivered), "pending": MEMBERS - len(delivered)}
    assert any(call.error_code == 401 for call in server.calls)
    (critical,) = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "zalo" in critical.lower()

    # Started again with the new token, the dispatcher sends the rest, and only the rest.
    sender = await _sender(server, database_url)
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatcher(database, {"zalo": sender}, settings=settings).run(stop))
    try:
        assert await _until_none(database, "pending", "sending") == {"sent": MEMBERS}
    finally:
        stop.set()
        await task
        await sender.stop()
    assert {chat: len(server.sent_texts(chat)) for chat in chats} == dict.fromkeys(chats, 1)
