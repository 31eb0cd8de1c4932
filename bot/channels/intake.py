"""The durable intake of one messenger in one process: what a webhook or getUpdates delivers
is stored in one short transaction (bot/services/intake.py) before it is acknowledged, and
this processor handles it from the table. Different chats are answered at the same time;
one chat's updates one after another, in the order they came (a double tap, or a contact
after the card number, must not overtake the message before it) — across processes too,
since a chat's next update is claimable only once the one before it is done and its
replies went.

An update is marked done in the transaction of the conversation that handles it (ChatCore
reads the ticket this processor sets): its effects and its being done commit together. A
crash before that commit handles it again after the restart, a crash after it does not.
Its replies are sent after the commit, so a crash in the moment between loses those
replies, never the update's effects. Keeping the replies to send them again after a crash
was tried: in that design the moment that sends them twice (from a reply sent to its being
recorded, a database write waiting its turn) proved longer than this one (from the commit
to the send), and no messenger API lets a sender ask whether a message went. The claim
stays until the replies are sent, so the chat's next update waits for them. Updates no
conversation handles (ignored kinds, those that failed) are marked done right after.

Storing updates and letting go of handled ones each claim, in their own transaction, what
the free slots take (the new updates, the chats' next ones); a loop claims the rest (what
another process stored, or what waited for a slot): an update alone costs three
transactions, not six."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.db import Database
from bot.models import utcnow
from bot.services.intake import Arrival, ClaimedUpdate, IntakeService, Ticket, current_ticket

log = logging.getLogger(__name__)

# How many updates a process handles at once. Each holds a database connection while its
# transaction runs; the rest wait in the table.
CONCURRENT_UPDATES = 64
# A claim runs out this long after its last renewal (every third of it while handled): how
# long another process waits for the updates of one that died.
LEASE = timedelta(seconds=15)
# A safety net: updates this process stores wake it at once; this finds those another
# process stored (and then died) or left.
POLL_INTERVAL = 1.0
# On PostgreSQL the intake has connections of its own: storing an update (the webhook's 200)
# must not queue behind the conversations' transactions.
INTAKE_CONNECTIONS = 3
# An update claimed this many times without being done (each time, its process died while
# handling it) is given up, so that it does not hold its chat forever.
MAX_ATTEMPTS = 5
STOP_GRACE = 10.0

Handler = Callable[[dict[str, Any]], Awaitable[None]]
T = TypeVar("T")


class Intake:
    def __init__(
        self,
        database: Database,
        messenger: str,
        handle: Handler,
        *,
        concurrency: int = CONCURRENT_UPDATES,
        lease: timedelta = LEASE,
        poll_interval: float = POLL_INTERVAL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # The conversations' database (for SQLite, with its one connection, also the intake's).
        self._shared_database = database
        self._database = database
        self._messenger = messenger
        self._handle = handle
        self._concurrency = concurrency
        self._lease = lease
        self._poll_interval = poll_interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._settling: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # handling or settling
        # Slots taken by a claim not yet started (its transaction still open).
        self._reserved = 0
        # A claim took as many as it had slots for: more may be waiting for a free one.
        self._starved = False
        self._running: asyncio.Task[None] | None = None
        self._settler: Settler | None = None

    async def store(self, arrivals: Sequence[Arrival]) -> int:
        """Stores updates before they are acknowledged; returns how many were new (a
        redelivered update is stored once)."""
        return await self._then_claim(
            lambda service: service.store(self._messenger, arrivals, self._clock())
        )

    async def _then_claim(self, work: Callable[[IntakeService], Awaitable[T]]) -> T:
        """`work`, and in the same transaction a claim of what the free slots take: at a
        quiet hour each update comes alone, and claims of their own after it is stored and
        after it is let go would make it six transactions instead of three (each about
        0.7 ms of CPU on SQLite; issue #16, throughput). What is claimed starts once it is
        committed."""
        free = self._free()
        self._reserved += free
        claimed: list[ClaimedUpdate] = []
        try:
            async with self._database.session() as session, session.begin():
                service = IntakeService(session)
                result = await work(service)
                if free:
                    claimed = await service.claim(self._messenger, self._clock(), free, self._lease)
        finally:
            self._reserved -= free
        self._start_handling(claimed)
        # All the slots it had are taken: updates may be left waiting for one, which the
        # loop claims once one is free.
        self._starved = len(claimed) == free
        return result

    def _free(self) -> int:
        """Slots a claim may fill now."""
        if not self.running or self._stop.is_set():
            return 0
        return max(0, self._concurrency - len(self._in_hand) - self._reserved)

    def _start_handling(self, claimed: Sequence[ClaimedUpdate]) -> None:
        for row in claimed:
            task = asyncio.create_task(self._process(row))
            self._in_hand[row.id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        if self._shared_database.engine.dialect.name == "postgresql":
            self._database = Database(
                self._shared_database.url, pool_size=INTAKE_CONNECTIONS, max_overflow=0
            )
        elif self._database.engine.dialect.name == "sqlite":
            # SQLite has one process: leases left in the table are its own, from before a
            # crash, and need not be waited out.
            async with self._database.session() as session, session.begin():
                await IntakeService(session).release(self._messenger)
        self._settler = Settler(self._then_claim, self._clock)
        self._stop.clear()
        self._running = asyncio.create_task(self._run())

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Claims no more; lets the updates in hand finish for `grace` seconds. What is not
        done stays in the table for the next start."""
        if self._running is None:
            return
        self._stop.set()
        await self._running
        self._running = None
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            if late:
                log.warning("%s: stopped with %d updates in hand", self._messenger, len(late))
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if self._settler is not None:
            await self._settler.stop()
            self._settler = None
        if self._database is not self._shared_database:
            await self._database.dispose()
            self._database = self._shared_database

    async def _run(self) -> None:
        """Claims what storing and letting go did not (updates another process stored, or
        waiting for a free slot), when woken or every poll interval."""
        renewed = asyncio.get_running_loop().time()
        while not self._stop.is_set():
            # Cleared before claiming: an update stored meanwhile starts the next round.
            self._wake.clear()
            try:
                if self._free():
                    await self._then_claim(_nothing)
                now = asyncio.get_running_loop().time()
                held = self._in_hand.keys() | self._settling
                if held and now - renewed > self._lease.total_seconds() / 3:
                    await self._renew()
                    renewed = now
            except Exception:
                # The database went away, say: the updates wait in the table.
                log.exception("%s: claiming stored updates failed", self._messenger)
            if self._starved and self._free():
                continue
            waiters = [
                asyncio.create_task(self._wake.wait()),
                asyncio.create_task(self._stop.wait()),
            ]
            await asyncio.wait(
                waiters, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()

    async def _renew(self) -> None:
        async with self._database.session() as session, session.begin():
            held = list(self._in_hand.keys() | self._settling)
            await IntakeService(session).renew(held, self._clock() + self._lease)

    async def _process(self, row: ClaimedUpdate) -> None:
        ticket = Ticket(row.id)
        current_ticket.set(ticket)  # this task's own context
        try:
            try:
                if row.attempts > MAX_ATTEMPTS:
                    log.error("%s: gave up an update after %d tries", self._messenger, MAX_ATTEMPTS)
                else:
                    await self._handle(row.raw)
            except Exception:
                # Update contents are not logged: they may hold phone or card numbers.
                log.exception("%s: error while handling an update", self._messenger)
        finally:
            self._in_hand.pop(row.id, None)
        # Its slot is free for another chat's update (if one waits for it); its lease,
        # renewed while it waits, holds its own chat until the settle commits.
        self._settling.add(row.id)
        if self._starved:
            self._wake.set()
        try:
            await self._settle(row.id)
        finally:
            self._settling.discard(row.id)

    async def _settle(self, row_id: int) -> None:
        assert self._settler is not None
        await self._settler.settle(row_id)


class Settler:
    """Lets go of the updates whose replies went, in one short transaction for all those
    that finished meanwhile (a group commit), which also claims what that lets go: the
    chats' next updates."""

    def __init__(
        self,
        transact: Callable[[Callable[[IntakeService], Awaitable[None]]], Awaitable[None]],
        clock: Callable[[], datetime],
    ):
        self._transact = transact
        self._clock = clock
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def settle(self, row_id: int) -> None:
        """Returns once the update is let go (or that failed: its lease runs out)."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[row_id] = future
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await future

    async def stop(self) -> None:
        while self._flushing is not None and not self._flushing.done():
            await self._flushing

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                await self._transact(
                    lambda service, ids=list(batch): service.settle(ids, self._clock())
                )
            except Exception:
                # Their leases run out: those not done are handled again, the chats go on.
                log.exception("intake: could not settle %d updates", len(batch))
            for future in batch.values():
                if not future.done():
                    future.set_result(None)


async def _nothing(_service: IntakeService) -> None:
    return None
