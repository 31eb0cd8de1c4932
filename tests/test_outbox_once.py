"""Scheduled sends keyed in the database: the same send decided twice, one after the other or
by two processes at once, queues each message once (bot/services/outbox_once.py).

The idempotency_key column and its unique constraint come with migration 0009."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from bot.db import Database
from bot.messages import Button, Reply
from bot.models import ChannelAccount, OutboxMessage, utcnow
from bot.services.outbox import Status
from bot.services.outbox_once import enqueue_account_once, enqueue_members_once
from tests.outbox_harness import FIRST_CHAT, add_unit

NUDGE = Reply("Chi bộ chưa có lịch sinh hoạt tháng 12/2026.", buttons=((Button("Tạo", "m:new"),),))


@pytest.fixture
def keyed(database: Database) -> Database:
    """The migrated test database: migration 0009 has the column and its unique constraint."""
    return database


async def _members(database: Database, linked: int, unlinked: int = 0) -> list[int]:
    return (await add_unit(database, ["Tỉnh", "Chi bộ 1"], linked, unlinked)).member_ids


async def _outbox(database: Database) -> list[tuple[str, int, str, str | None]]:
    async with database.session() as session:
        rows = await session.execute(
            text(
                "SELECT idempotency_key, member_id, status, chat_id FROM outbox"
                " ORDER BY idempotency_key"
            )
        )
        return [tuple(row) for row in rows]


async def _queue(database: Database, key: str, members: list[int]) -> tuple[int, int]:
    async with database.session() as session, session.begin():
        queued = await enqueue_members_once(
            session, key, members, NUDGE, kind="nudge", now=utcnow()
        )
    return queued.pending, queued.skipped


async def test_the_same_send_decided_twice_is_queued_once(keyed: Database) -> None:
    members = await _members(keyed, linked=2, unlinked=1)
    key = "nudge:unit:7:regular:2026-12"
    assert await _queue(keyed, key, members) == (2, 1)
    first = await _outbox(keyed)
    assert [(k, m, s) for k, m, s, _ in first] == [
        (f"{key}/m{members[0]}", members[0], Status.PENDING),
        (f"{key}/m{members[1]}", members[1], Status.PENDING),
        (f"{key}/m{members[2]}", members[2], Status.SKIPPED),  # not linked: named in reports
    ]
    assert await _queue(keyed, key, members) == (0, 0)
    assert await _outbox(keyed) == first
    async with keyed.session() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.member_id == members[0])
        )
    assert row is not None and row.kind == "nudge" and row.payload["text"] == NUDGE.text
    assert row.payload["buttons"] == [[["Tạo", "m:new"]]]


async def test_a_member_added_later_gets_only_their_own_message(keyed: Database) -> None:
    members = await _members(keyed, linked=3)
    assert await _queue(keyed, "reminder:41", members[:2]) == (2, 0)
    assert await _queue(keyed, "reminder:41", members) == (1, 0)
    assert await _queue(keyed, "reminder:42", members) == (3, 0)  # another send: its own rows
    rows = await _outbox(keyed)
    assert len(rows) == 6 and len({k for k, *_ in rows}) == 6


async def test_two_processes_deciding_the_same_send_at_once_queue_it_once(
    keyed: Database,
) -> None:
    """Two engines (two processes' pools), both transactions open at the same time."""
    members = await _members(keyed, linked=40)
    first, second = Database(keyed.url), Database(keyed.url)
    inserted = asyncio.Event()

    async def leader(database: Database, hold: bool) -> int:
        async with database.session() as session, session.begin():
            queued = await enqueue_members_once(
                session, "quiz:9:open", members, NUDGE, kind="quiz_invitation", now=utcnow()
            )
            if hold:
                inserted.set()
                await asyncio.sleep(0.3)  # the other one starts before this commits
            return queued.pending

    try:
        holding = asyncio.create_task(leader(first, hold=True))
        await inserted.wait()
        late = asyncio.create_task(leader(second, hold=False))
        counts = await asyncio.gather(holding, late)
    finally:
        await first.dispose()
        await second.dispose()
    assert sorted(counts) == [0, 40]
    async with keyed.session() as session:
        total = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert total == 40


async def test_an_account_message_is_keyed_too(keyed: Database) -> None:
    await _members(keyed, linked=1)
    async with keyed.session() as session:
        account = await session.scalar(select(ChannelAccount.id))
    assert account is not None
    for expected in (True, False):
        async with keyed.session() as session, session.begin():
            queued = await enqueue_account_once(
                session,
                "broadcast:3:report",
                account,
                Reply("Đã gửi 12."),
                kind="report",
                now=utcnow(),
            )
        assert queued is expected
    rows = await _outbox(keyed)
    assert [(k, s, c) for k, _, s, c in rows] == [
        (f"broadcast:3:report/a{account}", Status.PENDING, str(FIRST_CHAT))
    ]
