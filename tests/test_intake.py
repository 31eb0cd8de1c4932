"""The durable intake (issue #14.1): updates stored once however often they are delivered,
claimed one chat at a time in order by any number of processors, handled once, marked done
in the conversation's transaction, picked up after a crash, and purged when old."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from bot.channels.intake import MAX_ATTEMPTS, Intake
from bot.channels.telegram import TELEGRAM_TRAITS, TelegramChannel
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, Incoming, Reply
from bot.models import ChannelAccount, IntakeUpdate, utcnow
from bot.services.intake import Arrival, IntakeService
from bot.texts import text
from jobs.housekeeping import Housekeeping
from tests.fakes.telegram_api import FakeTelegramServer
from tests.telegram_harness import running_channel, telegram_settings

LEASE = timedelta(seconds=30)


def _arrival(key: int, chat: str, text: str = "") -> Arrival:
    return Arrival(str(key), chat, {"key": key, "chat": chat, "text": text})


async def _store(database: Database, arrivals: list[Arrival]) -> int:
    async with database.session() as session, session.begin():
        return await IntakeService(session).store(Channel.TELEGRAM, arrivals, utcnow())


async def _claim(database: Database, limit: int = 10, *, at: Any = None) -> list[int]:
    async with database.session() as session, session.begin():
        claimed = await IntakeService(session).claim(Channel.TELEGRAM, at or utcnow(), limit, LEASE)
    return [row.raw["key"] for row in claimed]


async def _done(database: Database, key: int) -> None:
    async with database.session() as session, session.begin():
        row_id = await session.scalar(
            select(IntakeUpdate.id).where(IntakeUpdate.update_key == str(key))
        )
        assert row_id is not None
        await IntakeService(session).settle([row_id], utcnow())


async def _rows(database: Database) -> list[IntakeUpdate]:
    async with database.session() as session:
        return list(await session.scalars(select(IntakeUpdate).order_by(IntakeUpdate.id)))


async def test_a_redelivered_update_is_stored_once(database: Database) -> None:
    assert await _store(database, [_arrival(1, "a"), _arrival(2, "a")]) == 2
    assert await _store(database, [_arrival(2, "a"), _arrival(3, "b")]) == 1
    rows = await _rows(database)
    assert [(r.update_key, r.chat_key, r.done_at) for r in rows] == [
        ("1", "a", None),
        ("2", "a", None),
        ("3", "b", None),
    ]
    # The same key on another messenger is another update.
    async with database.session() as session, session.begin():
        assert await IntakeService(session).store(Channel.ZALO, [_arrival(1, "a")], utcnow()) == 1


async def test_a_chats_next_update_waits_for_the_one_before_it(database: Database) -> None:
    await _store(database, [_arrival(1, "a"), _arrival(2, "a"), _arrival(3, "b")])
    assert await _claim(database) == [1, 3]
    assert await _claim(database) == []  # 1 and 3 are leased, 2 waits for 1
    await _done(database, 3)
    assert await _claim(database) == []
    await _done(database, 1)
    assert await _claim(database) == [2]


async def test_a_chats_next_update_waits_until_the_replies_before_it_went(
    database: Database,
) -> None:
    await _store(database, [_arrival(1, "a"), _arrival(2, "a")])
    assert await _claim(database) == [1]
    async with database.session() as session, session.begin():
        # Handled (the conversation's commit), its replies not sent yet.
        await session.execute(
            update(IntakeUpdate).where(IntakeUpdate.update_key == "1").values(done_at=utcnow())
        )
    assert await _claim(database) == []
    await _done(database, 1)  # sent: settled
    assert await _claim(database) == [2]


async def test_a_renewal_racing_a_settle_does_not_hold_the_chat(database: Database) -> None:
    await _store(database, [_arrival(1, "a"), _arrival(2, "a")])
    assert await _claim(database) == [1]
    await _done(database, 1)
    async with database.session() as session, session.begin():
        # The renewal was decided while 1 was in hand and ran after its settle.
        await IntakeService(session).renew([1], utcnow() + LEASE)
    assert await _claim(database) == [2]


async def test_a_lease_that_ran_out_is_claimed_again(database: Database) -> None:
    await _store(database, [_arrival(1, "a")])
    assert await _claim(database) == [1]
    assert await _claim(database, at=utcnow() + LEASE / 2) == []
    assert await _claim(database, at=utcnow() + LEASE * 2) == [1]
    (row,) = await _rows(database)
    assert row.attempts == 2


async def test_updates_left_by_a_stopped_process_are_handled_at_start(
    database: Database,
) -> None:
    await _store(database, [_arrival(1, "a"), _arrival(2, "a"), _arrival(3, "b")])
    # As a process that died holding it a while ago (on SQLite, any lease is released).
    assert await _claim(database, 1, at=utcnow() - LEASE * 2) == [1]
    handled: list[int] = []

    async def handle(raw: dict[str, Any]) -> None:
        handled.append(raw["key"])

    intake = Intake(database, Channel.TELEGRAM, handle)
    await intake.start()
    try:
        for _ in range(100):
            if len(handled) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await intake.stop()
    assert sorted(handled) == [1, 2, 3]
    assert handled.index(1) < handled.index(2)
    assert all(row.done_at is not None and row.lease_until is None for row in await _rows(database))


async def test_an_update_whose_handling_fails_is_done_and_its_chat_goes_on(
    database: Database,
) -> None:
    handled: list[int] = []

    async def handle(raw: dict[str, Any]) -> None:
        if raw["text"] == "boom":
            raise RuntimeError("a handler bug")
        handled.append(raw["key"])

    intake = Intake(database, Channel.TELEGRAM, handle)
    await intake.start()
    try:
        await intake.store([_arrival(1, "a", "boom"), _arrival(2, "a")])
        for _ in range(100):
            if handled:
                break
            await asyncio.sleep(0.05)
    finally:
        await intake.stop()
    assert handled == [2]
    assert [r.done_at is not None for r in await _rows(database)] == [True, True]


async def test_an_update_that_keeps_killing_its_process_is_given_up(database: Database) -> None:
    await _store(database, [_arrival(1, "a"), _arrival(2, "a")])
    for attempt in range(MAX_ATTEMPTS):
        assert await _claim(database, 1, at=utcnow() + LEASE * 2 * attempt) == [1]
    async with database.session() as session, session.begin():  # the last process died too
        await session.execute(update(IntakeUpdate).values(lease_until=None))
    handled: list[int] = []

    async def handle(raw: dict[str, Any]) -> None:
        handled.append(raw["key"])

    intake = Intake(database, Channel.TELEGRAM, handle)
    await intake.start()
    try:
        for _ in range(100):
            if handled:
                break
            await asyncio.sleep(0.05)
    finally:
        await intake.stop()
    assert handled == [2]


async def test_processors_sharing_the_table_keep_each_chats_order(database: Database) -> None:
    """Two processors, as two worker processes on PostgreSQL would: every update handled
    once, a chat's in the order stored, never two of one chat at the same time."""
    chats, per_chat = 12, 8
    seen: dict[str, list[int]] = defaultdict(list)
    busy: set[str] = set()
    overlaps: list[str] = []

    async def handle(raw: dict[str, Any]) -> None:
        chat = raw["chat"]
        if chat in busy:
            overlaps.append(chat)
        busy.add(chat)
        await asyncio.sleep(random.uniform(0, 0.01))
        seen[chat].append(raw["key"])
        busy.discard(chat)

    processors = [Intake(database, Channel.TELEGRAM, handle, poll_interval=0.05) for _ in "ab"]
    for processor in processors:
        await processor.start()
    try:
        arrivals = [
            _arrival(n * chats + c, f"chat-{c}") for n in range(per_chat) for c in range(chats)
        ]
        for index, arrival in enumerate(arrivals):
            await processors[index % 2].store([arrival])
        for _ in range(200):
            if sum(len(keys) for keys in seen.values()) == chats * per_chat:
                break
            await asyncio.sleep(0.05)
    finally:
        for processor in processors:
            await processor.stop()
    assert overlaps == []
    assert {chat: keys for chat, keys in seen.items()} == {
        f"chat-{c}": [n * chats + c for n in range(per_chat)] for c in range(chats)
    }


async def test_the_conversation_marks_its_update_done_in_its_own_transaction(
    database: Database, core: ChatCore
) -> None:
    """Through the real chat core: the row is done when the reply goes out, committed with
    the account the message created."""
    at_send: list[tuple[bool, bool, list[str]]] = []

    async def send(chat_id: str, replies: list[Reply]) -> None:
        (row,) = await _rows(database)
        done, leased = row.done_at is not None, row.lease_until is not None
        at_send.append((done, leased, [reply.text for reply in replies]))

    async def handle(raw: dict[str, Any]) -> None:
        incoming = Incoming(Channel.TELEGRAM, raw["chat"], raw["chat"], text="/help")
        await core.answer(incoming, TELEGRAM_TRAITS, send)

    intake = Intake(database, Channel.TELEGRAM, handle)
    await intake.start()
    try:
        await intake.store([_arrival(1, "777")])
        for _ in range(100):
            if at_send:
                break
            await asyncio.sleep(0.05)
    finally:
        await intake.stop()
    # Done when the replies go, its chat still held; let go once they went.
    assert at_send == [(True, True, [text("help.menu")])]
    (row,) = await _rows(database)
    assert row.done_at is not None and row.lease_until is None
    async with database.session() as session:
        assert await session.scalar(select(ChannelAccount.external_id)) == "777"


async def test_housekeeping_purges_done_updates_after_some_days(database: Database) -> None:
    await _store(database, [_arrival(1, "a"), _arrival(2, "a"), _arrival(3, "b")])
    await _done(database, 1)
    await _done(database, 3)
    housekeeping = Housekeeping(database)
    await housekeeping.run(utcnow() + timedelta(days=1))
    assert len(await _rows(database)) == 3  # kept a while, to know a late redelivery
    await housekeeping.run(utcnow() + timedelta(days=8))
    assert [r.update_key for r in await _rows(database)] == ["2"]  # never one not done


class HeldCore(ChatCore):
    """Holds every message until `release` is set (a process about to be killed), then
    echoes it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def handle(self, incoming: Incoming, traits: Any) -> list[Reply]:
        await self.release.wait()
        return [Reply(f"echo {incoming.text}")]


async def test_polled_updates_confirmed_to_telegram_survive_a_crash(
    database: Database, database_url: str
) -> None:
    """getUpdates goes through the intake too: once the next poll has confirmed the updates
    (Telegram forgets them), they are in the table, and a new process answers them."""
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        first = TelegramChannel(settings, HeldCore(), poll_timeout=1)
        await first.start()
        try:
            for user in (1, 2, 3):
                server.push_message(user, f"hello {user}")
            for _ in range(100):
                if not server.pending_updates and await _count_rows(database) == 3:
                    break
                await asyncio.sleep(0.05)
            assert server.pending_updates == []  # confirmed: Telegram sends them no more
            await first.intake.stop(grace=0)  # the process dies with them in hand
        finally:
            await first.stop()
        assert server.sent_messages() == []
        released = HeldCore()
        released.release.set()
        async with running_channel(settings, released):
            await server.wait_for("sendMessage", 3, timeout=30)  # PostgreSQL: leases run out
    assert sorted(m["text"] for m in server.sent_messages()) == [
        "echo hello 1",
        "echo hello 2",
        "echo hello 3",
    ]


async def _count_rows(database: Database) -> int:
    return len(await _rows(database))


async def test_an_update_alone_takes_three_transactions(database: Database) -> None:
    """Issue #16: at a quiet hour each update comes alone. Stored and claimed together,
    handled, let go together with claiming the chat's next one: no transaction of its own
    to claim (the loop, which would, waits a long poll interval here)."""
    handled: list[int] = []
    commits: list[int] = []

    async def handle(raw: dict[str, Any]) -> None:
        async with database.session() as session, session.begin():  # the conversation's
            await session.execute(select(1))
        handled.append(raw["key"])

    intake = Intake(database, Channel.TELEGRAM, handle, poll_interval=30)
    await intake.start()
    await asyncio.sleep(0.1)  # the loop's first claim, at start, is behind it

    def count(_connection: object) -> None:
        commits.append(1)

    # Every engine's: on PostgreSQL the intake has connections of its own.
    event.listen(Engine, "commit", count)
    try:
        await intake.store([_arrival(1, "a")])
        await intake.store([_arrival(2, "a")])  # waits for 1, claimed as 1 is let go
        for _ in range(100):
            if len(handled) == 2 and len(commits) >= 6:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
    finally:
        event.remove(Engine, "commit", count)
        await intake.stop()
    assert handled == [1, 2]
    # store 1 + claim, handle 1, store 2 + claim (nothing: 1 is leased), let go of 1 +
    # claim 2, handle 2, let go of 2 + claim (nothing).
    assert len(commits) == 6
    assert all(row.done_at is not None and row.lease_until is None for row in await _rows(database))


async def test_an_update_waiting_for_a_free_slot_is_claimed_when_one_is(
    database: Database,
) -> None:
    """One slot: the second chat's update waits for it, and is claimed once it is free,
    not a poll interval later."""
    handled: list[int] = []
    release = asyncio.Event()

    async def handle(raw: dict[str, Any]) -> None:
        if raw["key"] == 1:
            await release.wait()
        handled.append(raw["key"])

    intake = Intake(database, Channel.TELEGRAM, handle, concurrency=1, poll_interval=30)
    await intake.start()
    try:
        await intake.store([_arrival(1, "a"), _arrival(2, "b")])
        await asyncio.sleep(0.1)
        assert handled == []
        release.set()
        for _ in range(100):
            if len(handled) == 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await intake.stop()
    assert handled == [1, 2]
