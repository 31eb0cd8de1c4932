"""The outbox dispatcher against the fake Bot API server: 429 storms, blocked members,
server errors, slow answers, a refused token, and a restart in the middle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming
from bot.models import ChannelAccount, OutboxMessage, utcnow
from bot.services.outbox import OutboxService, Status
from jobs.dispatcher import Dispatcher, DispatchSettings
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import services
from tests.outbox_harness import add_unit, dispatcher, statuses, telegram_sender

SENDER_CHAT = 999


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


async def broadcast_to(
    database: Database, unit_id: int, *, sender_account: int | None = None
) -> int:
    async with database.session() as session, session.begin():
        service = services(session).broadcasts
        broadcast_id, _ = await service.send(
            actor="test",
            body="Họp chi bộ 19h thứ Sáu.",
            unit_ids=[unit_id],
            signature="Ban Tổ chức",
            sender_account_id=sender_account,
        )
    return broadcast_id


async def drain(
    database: Database, server: FakeTelegramServer, database_url: str, *, until_idle: int = 3
) -> None:
    """Runs a dispatcher until the outbox has nothing left to send."""
    sender = telegram_sender(server, database_url)
    await sender.start()
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher(database, sender).run(stop))
    try:
        for _ in range(600):
            counts = await statuses(database)
            idle = not counts.get("pending") and not counts.get("sending")
            if idle and not await unfinished_broadcasts(database):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"outbox not drained: {counts}")
    finally:
        stop.set()
        await task
        await sender.stop()


async def unfinished_broadcasts(database: Database) -> list[int]:
    async with database.session() as session:
        return await services(session).broadcasts.unfinished()


def per_chat(server: FakeTelegramServer, chats: list[int]) -> dict[int, int]:
    return {chat: len(server.sent_messages(chat)) for chat in chats}


async def test_fifty_members_with_every_fault_each_reachable_one_gets_one_message(
    server: FakeTelegramServer, database: Database, database_url: str
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ A"], linked=50, unlinked=3)
    blocked, missing = unit.chats[7], unit.chats[13]
    server.block_chat(blocked)
    server.missing_chat(missing)
    server.fail_next("sendMessage", status=429, retry_after=1, count=2)
    server.fail_next("sendMessage", status=500, count=4)
    server.set_delay(0.01)
    broadcast_id = await broadcast_to(database, unit.id)
    await drain(database, server, database_url)

    reachable = [c for c in unit.chats if c not in (blocked, missing)]
    assert per_chat(server, reachable) == dict.fromkeys(reachable, 1)
    assert per_chat(server, [blocked, missing]) == {blocked: 0, missing: 0}
    assert server.sent_messages(reachable[0])[0]["text"].startswith("📢 THÔNG BÁO")
    async with database.session() as session:
        counts = await OutboxService(session).counts(broadcast_id)
        blocked_at = await session.scalar(
            select(ChannelAccount.blocked_at).where(ChannelAccount.chat_id == str(blocked))
        )
    assert counts[Status.SENT] == 48
    assert counts[Status.BLOCKED] == 1
    assert counts[Status.FAILED] == 1
    assert counts[Status.SKIPPED] == 3
    assert blocked_at is not None


async def test_the_sender_gets_one_progress_message_and_a_final_report(
    server: FakeTelegramServer, database: Database, database_url: str
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ B"], linked=12, unlinked=2)
    sender_unit = await add_unit(database, ["Tỉnh", "Văn phòng"], linked=1, first_chat=SENDER_CHAT)
    async with database.session() as session:
        account = await session.scalar(
            select(ChannelAccount.id).where(ChannelAccount.chat_id == str(SENDER_CHAT))
        )
    server.block_chat(unit.chats[0])
    broadcast_id = await broadcast_to(database, unit.id, sender_account=account)
    await drain(database, server, database_url)
    await asyncio.sleep(0.2)
    to_sender = server.sent_messages(SENDER_CHAT)
    assert len(to_sender) == 2, to_sender
    progress, report = to_sender
    assert progress["text"].startswith(f"Thông báo #{broadcast_id}: đã gửi 0/12")
    assert report["text"].splitlines()[:6] == [
        f"Thông báo #{broadcast_id} đã gửi xong.",
        "• Đã nhận: 11",
        "• Gửi lỗi: 0",
        "• Đã chặn bot: 1",
        "• Chưa liên kết: 2",
        "• Đã hủy: 0",
    ]
    edits = server.calls_to("editMessageText", chat_id=SENDER_CHAT)
    assert edits and all(e.params["message_id"] == edits[0].params["message_id"] for e in edits)
    assert sender_unit.member_ids


async def test_a_restart_in_the_middle_sends_the_rest_and_nothing_twice(
    server: FakeTelegramServer, database: Database, database_url: str
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ C"], linked=40)
    server.set_delay(0.02)
    await broadcast_to(database, unit.id)
    sender = telegram_sender(server, database_url)
    await sender.start()
    stop = asyncio.Event()
    first = asyncio.create_task(dispatcher(database, sender).run(stop))
    await server.wait_for("sendMessage", 15, timeout=10)
    first.cancel()  # as abrupt as this process can be: rows may be left "sending"
    with pytest.raises(asyncio.CancelledError):
        await first
    await sender.stop()
    async with database.session() as session:
        sent_before = set(
            await session.scalars(
                select(OutboxMessage.chat_id).where(OutboxMessage.status == Status.SENT)
            )
        )
    await asyncio.sleep(1.1)  # the claim timeout: rows of the dead process are retried
    await drain(database, server, database_url)
    counts = per_chat(server, unit.chats)
    assert set(counts.values()) <= {1, 2}
    assert all(counts[int(chat)] == 1 for chat in sent_before)
    assert (await statuses(database)) == {"sent": 40}
    # A duplicate can only be a send that was in flight when the first process stopped.
    assert sum(n - 1 for n in counts.values()) <= DispatchSettings().in_flight


async def test_a_slow_database_does_not_widen_what_a_crash_sends_twice(
    server: FakeTelegramServer,
    database: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a loaded machine recording an outcome can take longer than sending: the sends
    must wait for the records, or a crash sends a whole batch again (CI on PostgreSQL)."""
    unit = await add_unit(database, ["Tỉnh", "Chi bộ C2"], linked=40)
    record = Dispatcher._settle

    async def slow_record(self: Dispatcher, *args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.3)
        await record(self, *args, **kwargs)

    monkeypatch.setattr(Dispatcher, "_settle", slow_record)
    await broadcast_to(database, unit.id)
    sender = telegram_sender(server, database_url)
    await sender.start()
    first = asyncio.create_task(dispatcher(database, sender).run(asyncio.Event()))
    await server.wait_for("sendMessage", 5, timeout=10)
    await asyncio.sleep(0.2)  # sends that do not wait would all be out by now
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await sender.stop()
    assert len(server.sent_messages()) <= DispatchSettings().in_flight
    monkeypatch.undo()
    await asyncio.sleep(1.1)
    await drain(database, server, database_url)
    counts = per_chat(server, unit.chats)
    assert (await statuses(database)) == {"sent": 40}
    assert set(counts.values()) <= {1, 2}
    assert sum(n - 1 for n in counts.values()) <= DispatchSettings().in_flight


async def test_dispatchers_claiming_together_never_take_more_than_a_batch(
    database: Database,
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ C3"], linked=60)
    await broadcast_to(database, unit.id)

    async def claim() -> list[int]:
        async with database.session() as session, session.begin():
            rows = await OutboxService(session).claim(["telegram"], utcnow(), 7)
        return [row.id for row in rows]

    batches = await asyncio.gather(*(claim() for _ in range(6)))
    assert all(len(batch) == 7 for batch in batches)
    claimed = [row_id for batch in batches for row_id in batch]
    assert len(set(claimed)) == len(claimed) == 42
    assert (await statuses(database)) == {"sending": 42, "pending": 18}


async def test_a_refused_token_stops_telegram_and_keeps_the_rows(
    server: FakeTelegramServer, database: Database, database_url: str
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ D"], linked=5)
    await broadcast_to(database, unit.id)
    server.fail_next("sendMessage", status=401, description="Unauthorized", count=100)
    sender = telegram_sender(server, database_url)
    await sender.start()
    worker = dispatcher(database, sender)
    assert await worker.drain_once() > 0
    assert await worker.drain_once() == 0  # nothing is sent while the token is refused
    await sender.stop()
    assert (await statuses(database)) == {"pending": 5}


async def test_stale_claims_are_retried_and_sent_rows_never_are(database: Database) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ E"], linked=3)
    await broadcast_to(database, unit.id)
    now = utcnow()
    async with database.session() as session, session.begin():
        ids = list(await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[0])
            .values(status=Status.SENDING, claimed_at=now - timedelta(minutes=5))
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == ids[1]).values(status=Status.SENT)
        )
    async with database.session() as session, session.begin():
        outbox = OutboxService(session)
        assert await outbox.recover_stale(now, timedelta(minutes=1)) == 1
        claimed = await outbox.claim(["telegram"], now, 10)
    assert [c.id for c in claimed] == [ids[0], ids[2]]


async def test_a_member_who_unblocks_the_bot_gets_messages_again(
    server: FakeTelegramServer, database: Database, database_url: str, core: ChatCore
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ F"], linked=2)
    blocked = unit.chats[0]
    server.block_chat(blocked)
    await broadcast_to(database, unit.id)
    await drain(database, server, database_url)
    # The member writes to the bot again: the account is reachable once more.
    traits = ChannelTraits(has_buttons=True, text_limit=4096)
    await core.handle(Incoming(Channel.TELEGRAM, str(blocked), str(blocked), text="/help"), traits)
    server.unblock_chat(blocked)
    await broadcast_to(database, unit.id)
    await drain(database, server, database_url)
    assert per_chat(server, [blocked]) == {blocked: 1}


async def test_console_accounts_get_messages_only_without_another_messenger(
    database: Database,
) -> None:
    """The console is a messenger for demo members; a member who also has Telegram gets
    their messages there."""
    unit = await add_unit(database, ["Tỉnh", "Chi bộ G"], linked=1, unlinked=1)
    async with database.session() as session, session.begin():
        for index, member_id in enumerate(unit.member_ids):
            session.add(
                ChannelAccount(
                    channel="console",
                    external_id=f"demo-{index}",
                    chat_id=f"demo-{index}",
                    member_id=member_id,
                    linked_at=utcnow() - timedelta(days=1),  # before the Telegram account
                )
            )
    broadcast_id = await broadcast_to(database, unit.id)
    async with database.session() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
        )
        sent_to = sorted((row.channel, row.chat_id, row.status) for row in rows)
    assert sent_to == [
        ("console", "demo-1", "pending"),
        ("telegram", str(unit.chats[0]), "pending"),
    ]


async def test_a_broadcast_left_unfinished_by_a_stopped_process_gets_its_report(
    server: FakeTelegramServer, database: Database, database_url: str
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ H"], linked=2)
    await add_unit(database, ["Tỉnh", "Văn phòng H"], linked=1, first_chat=SENDER_CHAT)
    async with database.session() as session:
        account = await session.scalar(
            select(ChannelAccount.id).where(ChannelAccount.chat_id == str(SENDER_CHAT))
        )
    broadcast_id = await broadcast_to(database, unit.id, sender_account=account)
    # Every row already settled, as a process that died right after its last send leaves it.
    async with database.session() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .values(status=Status.SENT, sent_at=utcnow())
        )
    await drain(database, server, database_url)
    report = server.sent_messages(SENDER_CHAT)[-1]["text"]
    assert report.startswith(f"Thông báo #{broadcast_id} đã gửi xong.")
