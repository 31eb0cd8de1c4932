"""The intake processor on its own (bot/channels/intake.py): what a process left handled but
undelivered is delivered from the stored replies, not handled again; and several processes
sharing the table on PostgreSQL handle every update once, each chat in order."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels.intake import Entry, IntakeProcessor, _Receipt, receive
from bot.chat import ChatCore, Receipt
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.models import IntakeUpdate

TRAITS = ChannelTraits(has_buttons=True, text_limit=4096)


class Recorder:
    """A receiver that records what it delivers, per chat."""

    channel = Channel.TELEGRAM
    traits = TRAITS

    def __init__(self) -> None:
        self.delivered: dict[str, list[str]] = defaultdict(list)

    def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        return Incoming(Channel.TELEGRAM, payload["chat"], payload["chat"], text=payload["text"])

    async def deliver(
        self, payload: dict[str, Any], incoming: Incoming, replies: list[Reply]
    ) -> None:
        await asyncio.sleep(random.random() / 200)
        self.delivered[incoming.chat_id].extend(reply.text for reply in replies)


class EchoCore(ChatCore):
    """Answers "echo <text>" in the receipt's transaction, slowly enough to interleave."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.handled: list[str] = []

    async def handle(
        self, incoming: Incoming, traits: ChannelTraits, receipt: Receipt | None = None
    ) -> list[Reply] | None:
        assert receipt is not None
        async with self._database.session() as session, session.begin():
            if not await receipt.claim(session):
                return None
            await asyncio.sleep(random.random() / 100)
            replies = [Reply(f"echo {incoming.text}")]
            await receipt.record(session, replies)
        self.handled.append(f"{incoming.chat_id}:{incoming.text}")
        return replies


async def _open_rows(database: Database) -> int:
    async with database.session() as session:
        return (
            await session.scalar(select(func.count()).where(IntakeUpdate.finished_at.is_(None)))
            or 0
        )


async def _drain(database: Database, processors: list[IntakeProcessor]) -> None:
    stop = asyncio.Event()
    running = [asyncio.create_task(p.run(stop)) for p in processors]
    for _ in range(1200):  # at most a minute
        if not await _open_rows(database):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*running)


async def test_a_handled_update_left_undelivered_is_delivered_not_handled_again(
    database: Database,
) -> None:
    entry = Entry("7", "c1", {"chat": "c1", "text": "hỏi"})
    await receive(database, Channel.TELEGRAM, [entry])
    async with database.session() as session, session.begin():
        row_id = await session.scalar(select(IntakeUpdate.id))
        assert row_id is not None
        receipt = _Receipt(row_id, locks=False)
        assert await receipt.claim(session)
        await receipt.record(session, [Reply("trả lời đã lưu")])
    core, recorder = EchoCore(database), Recorder()
    await _drain(database, [IntakeProcessor(database, core, recorder, idle_poll=0.05)])
    assert core.handled == []
    assert recorder.delivered == {"c1": ["trả lời đã lưu"]}
    async with database.session() as session:
        row = await session.scalar(select(IntakeUpdate))
    assert row is not None and row.payload is None and row.replies is None


async def test_processes_sharing_the_table_answer_each_update_once_in_chat_order(
    database: Database, database_url: str
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("several processes share the intake on PostgreSQL only")
    chats, per_chat = 12, 15
    entries = [
        Entry(f"{chat}-{n}", f"c{chat}", {"chat": f"c{chat}", "text": str(n)})
        for n in range(per_chat)
        for chat in range(chats)
    ]
    await receive(database, Channel.TELEGRAM, entries)
    workers = [Database(database_url) for _ in range(3)]  # a pool each, as processes have
    recorder = Recorder()
    cores = [EchoCore(worker) for worker in workers]
    try:
        await _drain(
            database,
            [
                IntakeProcessor(worker, core, recorder, idle_poll=0.02)
                for worker, core in zip(workers, cores, strict=True)
            ],
        )
    finally:
        for worker in workers:
            await worker.dispose()
    handled = [item for core in cores for item in core.handled]
    assert sorted(handled) == sorted(f"c{c}:{n}" for c in range(chats) for n in range(per_chat))
    assert all(core.handled for core in cores)  # the work was shared
    expected = [f"echo {n}" for n in range(per_chat)]
    assert recorder.delivered == {f"c{chat}": expected for chat in range(chats)}
