"""The durable intake: every update a messenger delivers (webhook or poll) is written to
`intake_updates` in one short transaction before it is acknowledged, then answered from
there. Telegram and Zalo never send again what got a 200, so an update held only in memory
would be lost by a crash.

Each row goes: received → handled (in the handler's own transaction, with its replies) →
finished (replies delivered; payload and replies cleared). A process starting takes up
whatever is not finished: not handled yet, it is handled; handled, its stored replies are
sent. A redelivered update is refused by the unique key (messenger, update key).

Order: a chat's rows are taken one at a time, oldest first, the next only once the one
before is finished; different chats run concurrently. On PostgreSQL several processes
share the table: a row is taken with SELECT ... FOR UPDATE SKIP LOCKED inside the
transaction that handles it, and again around the delivery, so exactly one process handles
and one delivers it, and a process that dies lets go of its rows with its connection. On
SQLite (one process) the chats in hand are kept in memory.

The one gap left is the messenger's: a reply the Bot API accepted just before a crash, not
yet marked finished, is sent again on restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.chat_order import CONCURRENT_UPDATES
from bot.channels.delivery import RetryLater, TransientError
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.models import IntakeUpdate, utcnow
from bot.services.outbox import from_payload, to_payload

log = logging.getLogger(__name__)

# Seconds between looks for rows this process was not told about (received by another
# process, or left by one that died).
IDLE_POLL = 1.0
# After an unexpected error (the database gone), a chat waits this long before its row is
# tried again.
RETRY_PAUSE = 5.0
# A delivery that failed for a reason that may pass (a timeout, a 5xx, a 429) is tried this
# many times in all, RETRY_PAUSE apart (or as long as a 429 asks), the chat waiting meanwhile.
DELIVERY_ATTEMPTS = 4
# On PostgreSQL a delivery keeps a connection (its row lock) while the messenger answers:
# at most this many at once, so that a slow Bot API cannot take every connection of the
# pool (5 + 10 overflow by default) from the webhooks and the handlers.
LOCKED_DELIVERIES = 8
# Seconds `run` lets updates in hand finish once asked to stop.
STOP_GRACE = 10.0
# Finished rows are kept this long, so that a redelivery is still recognised.
KEEP_FINISHED = timedelta(days=2)
SWEEP_EVERY = timedelta(hours=1)
# How many of the oldest open rows are read, per update answered at once, to find the
# chats to take next.
WINDOW_PER_SLOT = 4
# Deeper JSON than this is not a messenger update (Telegram's nests a few levels).
MAX_DEPTH = 32


@dataclass(frozen=True)
class Entry:
    """An update as the intake stores it."""

    key: str
    chat: str
    payload: dict[str, Any]


def check_depth(value: object, limit: int = MAX_DEPTH) -> None:
    """Raises ValueError for JSON nested deeper than `limit` (walked without recursion)."""
    level: list[object] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise ValueError("nested too deep")
        below: list[object] = []
        for item in level:
            if isinstance(item, Mapping):
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
        level = below


async def receive(database: Database, channel: Channel, entries: Sequence[Entry]) -> int:
    """Stores updates in one transaction, skipping those already received; returns how
    many were new."""
    if not entries:
        return 0
    dialect = database.engine.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(IntakeUpdate)
        .values(
            [
                {
                    "channel": channel,
                    "update_key": entry.key,
                    "chat_key": entry.chat,
                    "payload": entry.payload,
                    "received_at": utcnow(),
                }
                for entry in entries
            ]
        )
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
    )
    async with database.session() as session, session.begin():
        result = await session.execute(statement)
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


class Receiver(Protocol):
    """What a messenger adapter gives the processor."""

    channel: Channel
    traits: ChannelTraits

    def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        """The stored update as the conversation sees it; None for what the bot ignores."""
        ...

    async def deliver(
        self, payload: dict[str, Any], incoming: Incoming, replies: list[Reply]
    ) -> None:
        """Sends the replies; logs and swallows what the messenger refuses for good.
        Raises TransientError or RetryLater when they may go through later."""
        ...


@dataclass(frozen=True)
class _Row:
    id: int
    payload: dict[str, Any] | None
    handled: bool
    replies: list[dict[str, Any]] | None


class _Receipt:
    """The row's part of the handler's transaction (see `bot.chat.Receipt`)."""

    def __init__(self, row_id: int, locks: bool) -> None:
        self._id = row_id
        self._locks = locks

    async def claim(self, session: AsyncSession) -> bool:
        query = select(IntakeUpdate.id).where(
            IntakeUpdate.id == self._id,
            IntakeUpdate.handled_at.is_(None),
            IntakeUpdate.finished_at.is_(None),
        )
        if self._locks:
            query = query.with_for_update(skip_locked=True)
        return await session.scalar(query) is not None

    async def record(self, session: AsyncSession, replies: list[Reply]) -> None:
        await session.execute(
            update(IntakeUpdate)
            .where(IntakeUpdate.id == self._id)
            .values(handled_at=utcnow(), replies=[to_payload(reply) for reply in replies])
        )


class IntakeProcessor:
    """Answers one messenger's stored updates (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        core: ChatCore,
        receiver: Receiver,
        *,
        concurrency: int = CONCURRENT_UPDATES,
        idle_poll: float = IDLE_POLL,
    ) -> None:
        self._database = database
        self._core = core
        self._receiver = receiver
        self._channel = receiver.channel
        self._concurrency = concurrency
        self._idle_poll = idle_poll
        self._locks = database.engine.dialect.name == "postgresql"
        self._news = asyncio.Event()
        self._busy: set[str] = set()  # chats with a row in hand in this process
        self._deliveries = asyncio.Semaphore(LOCKED_DELIVERIES)
        self._tasks: set[asyncio.Task[None]] = set()
        self._swept_at = utcnow() - SWEEP_EVERY

    def wake(self) -> None:
        """Something new was received: look now rather than at the next idle poll."""
        self._news.set()

    async def receive(self, entries: Sequence[Entry]) -> None:
        await receive(self._database, self._channel, entries)
        self.wake()

    async def run(self, stop: asyncio.Event) -> None:
        """Takes rows until `stop`, then lets those in hand finish (at most STOP_GRACE)."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                self._news.clear()
                try:
                    await self._take()
                    await self._sweep()
                except Exception:
                    log.exception("intake: could not read the %s updates", self._channel)
                    await _sleep_unless(stop, RETRY_PAUSE)
                    continue
                news = asyncio.create_task(self._news.wait())
                await asyncio.wait(
                    {news, stopping}, timeout=self._idle_poll, return_when="FIRST_COMPLETED"
                )
                news.cancel()
        finally:
            stopping.cancel()
            if self._tasks:
                _done, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE)
                for task in pending:
                    task.cancel()  # their rows stay unfinished for the next start
                if pending:
                    log.warning(
                        "intake: stopped before every %s update was answered", self._channel
                    )

    async def _take(self) -> None:
        free = self._concurrency - len(self._tasks)
        if free <= 0:
            return
        heads = await self._heads(free)
        for row_id, chat in heads:
            self._busy.add(chat)
            task = asyncio.create_task(self._answer(row_id, chat))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _heads(self, wanted: int) -> list[tuple[int, str]]:
        """The oldest open row of up to `wanted` chats not in hand here. The oldest open rows
        are read in order (a chat's first there is its oldest); only when they are all of
        chats in hand does it group every open row by chat."""
        open_rows = IntakeUpdate.channel == self._channel, IntakeUpdate.finished_at.is_(None)
        window = WINDOW_PER_SLOT * self._concurrency
        async with self._database.session() as session:
            rows = (
                await session.execute(
                    select(IntakeUpdate.id, IntakeUpdate.chat_key)
                    .where(*open_rows)
                    .order_by(IntakeUpdate.id)
                    .limit(window)
                )
            ).all()
            heads: dict[str, int] = {}
            for row_id, chat in rows:
                if chat not in self._busy and chat not in heads:
                    heads[chat] = row_id
            if len(rows) == window and len(heads) < wanted:
                grouped = (
                    select(func.min(IntakeUpdate.id), IntakeUpdate.chat_key)
                    .where(*open_rows)
                    .group_by(IntakeUpdate.chat_key)
                    .order_by(func.min(IntakeUpdate.id))
                    .limit(wanted)
                )
                if self._busy:
                    grouped = grouped.where(IntakeUpdate.chat_key.not_in(self._busy))
                heads = {chat: row_id for row_id, chat in (await session.execute(grouped)).all()}
        return sorted((row_id, chat) for chat, row_id in heads.items())[:wanted]

    async def _answer(self, row_id: int, chat: str) -> None:
        try:
            await self._process(row_id)
        except Exception:
            # Update contents are not logged: they may hold phone or card numbers.
            log.exception("intake: error while answering a %s update", self._channel)
            await asyncio.sleep(RETRY_PAUSE)
        finally:
            self._busy.discard(chat)
            self.wake()

    async def _process(self, row_id: int) -> None:
        row = await self._load(row_id)
        if row is None:
            return
        incoming = self._parse(row.payload)
        if incoming is None:
            await self._finish_unanswered(row_id)
            return
        if not row.handled:
            replies = await self._core.handle(
                incoming, self._receiver.traits, _Receipt(row_id, self._locks)
            )
            if replies is None:
                return  # another process has it
        else:
            replies = [from_payload(reply) for reply in row.replies or []]
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                await self._deliver(row_id, row.payload or {}, incoming, replies)
                return
            except (TransientError, RetryLater) as error:
                if attempt == DELIVERY_ATTEMPTS:
                    log.error("intake: gave up sending a %s reply: %s", self._channel, error)
                    await self._finish_unanswered(row_id)
                    return
                wait = error.retry_after if isinstance(error, RetryLater) else RETRY_PAUSE
                await asyncio.sleep(wait)

    def _parse(self, payload: dict[str, Any] | None) -> Incoming | None:
        if payload is None:
            return None
        try:
            return self._receiver.incoming(payload)
        except Exception:
            log.exception("intake: a stored %s update could not be read", self._channel)
            return None

    async def _load(self, row_id: int) -> _Row | None:
        async with self._database.session() as session:
            row = (
                await session.execute(
                    select(
                        IntakeUpdate.payload, IntakeUpdate.handled_at, IntakeUpdate.replies
                    ).where(IntakeUpdate.id == row_id, IntakeUpdate.finished_at.is_(None))
                )
            ).one_or_none()
        if row is None:
            return None
        return _Row(row_id, row.payload, row.handled_at is not None, row.replies)

    async def _deliver(
        self, row_id: int, payload: dict[str, Any], incoming: Incoming, replies: list[Reply]
    ) -> None:
        if not self._locks:
            await self._receiver.deliver(payload, incoming, replies)
            async with self._database.session() as session, session.begin():
                await self._finish(session, row_id)
            return
        # The row stays locked while its replies go out: no other process sends them too.
        async with self._deliveries, self._database.session() as session, session.begin():
            if not await self._hold(session, row_id):
                return
            await self._receiver.deliver(payload, incoming, replies)
            await self._finish(session, row_id)

    async def _finish_unanswered(self, row_id: int) -> None:
        async with self._database.session() as session, session.begin():
            if not self._locks or await self._hold(session, row_id):
                await self._finish(session, row_id)

    @staticmethod
    async def _hold(session: AsyncSession, row_id: int) -> bool:
        held = await session.scalar(
            select(IntakeUpdate.id)
            .where(IntakeUpdate.id == row_id, IntakeUpdate.finished_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        return held is not None

    @staticmethod
    async def _finish(session: AsyncSession, row_id: int) -> None:
        await session.execute(
            update(IntakeUpdate)
            .where(IntakeUpdate.id == row_id)
            .values(finished_at=utcnow(), payload=None, replies=None)
        )

    async def _sweep(self) -> None:
        """Forgets finished rows old enough that no redelivery is expected."""
        now = utcnow()
        if now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        async with self._database.session() as session, session.begin():
            await session.execute(
                delete(IntakeUpdate).where(
                    IntakeUpdate.channel == self._channel,
                    IntakeUpdate.finished_at < now - KEEP_FINISHED,
                )
            )


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
