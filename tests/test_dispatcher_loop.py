"""The dispatcher's loop keeps going: several messages to one console account in one batch
store its numbered choices (concurrently, on PostgreSQL), a row that cannot be sent is
marked and the rows after it still go out, a drain that fails is tried again, and a
wake-up that arrives while it drains is not lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.channels.console_delivery import ConsoleSender
from bot.db import Database
from bot.messages import Button, Reply
from bot.models import ChannelAccount, ConversationState, OutboxMessage, utcnow
from bot.services.conversations import ConversationService
from bot.services.outbox import OutboxService
from jobs.dispatcher import Dispatcher
from tests.conftest import TEST_DATABASE_URL
from tests.outbox_harness import QUICK_RETRIES, add_unit, statuses

REMINDER = Reply(
    "🔔 Nhắc lịch: Sinh hoạt chi bộ",
    buttons=((Button("Tham dự", "rsvp:1:yes"), Button("Vắng", "rsvp:1:no")),),
)


async def _console_accounts(database: Database, count: int) -> list[int]:
    """Account ids of `count` console members, with no conversation state yet."""
    await add_unit(database, ["Tỉnh", "Chi bộ Thử"], linked=count, channel="console")
    async with database.session() as session:
        return list(await session.scalars(select(ChannelAccount.id).order_by(ChannelAccount.id)))


async def _queue(database: Database, account_id: int, reply: Reply, times: int = 1) -> None:
    async with database.session() as session, session.begin():
        outbox = OutboxService(session)
        for _ in range(times):
            await outbox.enqueue_account(account_id, reply, kind="reminder", now=utcnow())


async def _until_settled(database: Database, dispatching: asyncio.Task[None]) -> dict[str, int]:
    for _ in range(600):  # 30 seconds: a busy machine
        assert not dispatching.done(), "the dispatcher stopped"
        counts = await statuses(database)
        if not counts.get("pending") and not counts.get("sending"):
            return counts
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox not drained: {await statuses(database)}")


async def test_messages_to_one_console_account_in_one_batch_store_its_choices(
    database: Database,
) -> None:
    (account,) = await _console_accounts(database, 1)
    await _queue(database, account, REMINDER, times=6)
    shown: list[str] = []
    sender = ConsoleSender(shown.append, quiet_after=0.01)
    sender.chat_id = "10000"
    dispatcher = Dispatcher(database, {"console": sender}, settings=QUICK_RETRIES)
    stop = asyncio.Event()
    dispatching = asyncio.create_task(dispatcher.run(stop))
    try:
        assert await _until_settled(database, dispatching) == {"sent": 6}
        await asyncio.sleep(0.2)  # the choices are stored just after each row is settled
        assert not dispatching.done(), "the dispatcher stopped"
    finally:
        stop.set()
        await dispatching
    assert sum("🔔 Nhắc lịch: Sinh hoạt chi bộ" in line for line in shown) == 6
    async with database.session() as session:
        state = await session.get(ConversationState, account)
    assert state is not None and state.choices == ["rsvp:1:yes", "rsvp:1:no"]


async def test_a_row_that_cannot_be_sent_is_failed_and_the_rows_after_it_go_out(
    database: Database,
) -> None:
    first, second = await _console_accounts(database, 2)
    await _queue(database, first, REMINDER)
    async with database.session() as session, session.begin():
        broken = await session.scalar(select(OutboxMessage))
        assert broken is not None
        broken.payload = {"buttons": []}  # no text: written by an older version, say
    shown: list[str] = []
    sender = ConsoleSender(shown.append, quiet_after=0.01)
    sender.chat_id = "10001"
    dispatcher = Dispatcher(database, {"console": sender}, settings=QUICK_RETRIES)
    stop = asyncio.Event()
    dispatching = asyncio.create_task(dispatcher.run(stop))
    try:
        for _ in range(600):
            async with database.session() as session:
                row = await session.get(OutboxMessage, broken.id)
            if row is not None and row.status == "failed":
                break
            await asyncio.sleep(0.05)
        assert row is not None and row.status == "failed"
        await _queue(database, second, REMINDER)
        dispatcher.wake()
        assert await _until_settled(database, dispatching) == {"failed": 1, "sent": 1}
    finally:
        stop.set()
        await dispatching
    assert next(line for line in shown if "Nhắc lịch" in line).endswith("  1. Tham dự\n  2. Vắng")


async def test_a_failure_storing_choices_does_not_stop_the_dispatcher(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await _console_accounts(database, 2)
    failing = {first}
    original = ConversationService.set_choices

    async def set_choices(self: ConversationService, account_id: int, choices: list[str]) -> None:
        if account_id in failing:
            raise RuntimeError("the database went away")
        await original(self, account_id, choices)

    monkeypatch.setattr(ConversationService, "set_choices", set_choices)
    await _queue(database, first, REMINDER)
    sender = ConsoleSender(lambda _: None, quiet_after=0.01)
    dispatcher = Dispatcher(database, {"console": sender}, settings=QUICK_RETRIES)
    stop = asyncio.Event()
    dispatching = asyncio.create_task(dispatcher.run(stop))
    try:
        assert await _until_settled(database, dispatching) == {"sent": 1}
        await asyncio.sleep(0.2)
        await _queue(database, second, REMINDER)
        dispatcher.wake()
        assert await _until_settled(database, dispatching) == {"sent": 2}
    finally:
        stop.set()
        await dispatching
    async with database.session() as session:
        assert (await session.get(ConversationState, second)) is not None


async def test_a_wake_up_during_a_drain_that_found_nothing_is_not_lost(
    database: Database,
) -> None:
    """A row committed just after the dispatcher's claim found nothing wakes it at once,
    not after the poll interval (here a minute)."""
    slow_poll = replace(QUICK_RETRIES, poll_interval=60.0)
    dispatcher = Dispatcher(database, {}, settings=slow_poll)
    drains: list[float] = []
    second_drain = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def drain_once() -> int:
        drains.append(loop.time())
        if len(drains) == 1:
            # The claim found nothing; a transaction that queued a row commits now.
            dispatcher.wake()
        else:
            second_drain.set()
        return 0

    dispatcher.drain_once = drain_once  # type: ignore[method-assign]
    stop = asyncio.Event()
    dispatching = asyncio.create_task(dispatcher.run(stop))
    try:
        await asyncio.wait_for(second_drain.wait(), 5)
    finally:
        stop.set()
        await dispatching
    assert drains[1] - drains[0] < 5


@pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="SQLite runs one transaction at a time (bot/db.py): the race needs PostgreSQL",
)
async def test_a_flow_started_while_the_dispatcher_stores_choices_keeps_both(
    database: Database,
) -> None:
    """A member's message and a delivery to them race for the account's first state row."""
    (account,) = await _console_accounts(database, 1)
    async with database.session() as chat, chat.begin():
        conversation = ConversationService(chat)
        assert await conversation.get(account) is None
        async with database.session() as dispatching, dispatching.begin():
            await ConversationService(dispatching).set_choices(account, ["rsvp:1:yes"])
        await conversation.start(account, "quiz", "question")
    async with database.session() as session:
        state = await ConversationService(session).get(account)
    assert state is not None
    assert (state.flow, state.step, state.choices) == ("quiz", "question", ("rsvp:1:yes",))


async def test_a_drain_that_fails_is_tried_again_at_the_next_poll(database: Database) -> None:
    """The database away for a moment: the dispatcher logs it and carries on."""
    dispatcher = Dispatcher(database, {}, settings=QUICK_RETRIES)
    calls: list[int] = []
    again = asyncio.Event()

    async def drain_once() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        again.set()
        return 0

    dispatcher.drain_once = drain_once  # type: ignore[method-assign]
    stop = asyncio.Event()
    dispatching = asyncio.create_task(dispatcher.run(stop))
    try:
        await asyncio.wait_for(again.wait(), 5)
        assert not dispatching.done()
    finally:
        stop.set()
        await dispatching
