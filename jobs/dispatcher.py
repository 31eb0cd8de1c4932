"""The outbox dispatcher: claims due rows, sends each through its messenger within that
messenger's limits, and records every outcome in its own transaction before moving on, so a
crash loses nothing and a restart never resends a row marked sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.choices import stored
from bot.channels.delivery import (
    ChatNotFound,
    DeliveryError,
    RecipientBlocked,
    RetryLater,
    Sender,
    SenderUnauthorized,
    TransientError,
)
from bot.db import Database
from bot.metrics import Metrics, send_result
from bot.models import utcnow
from bot.services import Services, Shared
from bot.services.notices import Renderer
from bot.services.outbox import Claimed, Status, from_payload
from bot.settings import Settings
from handlers.notices import render_notice
from jobs.pacing import Pacer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchSettings:
    batch_size: int = 30
    # Rows sent but not yet recorded are what a crash sends twice; this caps them, however
    # slow the database is to hand out connections (CI under load: 32 of a batch of 30+10).
    in_flight: int = 10
    claim_timeout: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    backoff_base: float = 2.0  # seconds before the first retry; doubles each time
    poll_interval: float = 2.0  # a safety net: new rows from this process wake it at once
    progress_interval: float = 3.0  # seconds between two edits of a progress message


class Dispatcher:
    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        *,
        settings: DispatchSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        render: Renderer = render_notice,
        metrics: Metrics | None = None,
    ) -> None:
        self._database = database
        self._metrics = metrics
        self._senders = dict(senders)
        self._settings = settings or DispatchSettings()
        self._clock = clock
        # The dispatcher's services use the clock and the renderer (progress messages and
        # reports are worded where broadcasts are), nothing of the settings.
        self._shared = Shared(Settings(), clock=clock, render=render)
        self._pacers = {channel: Pacer(s.limits) for channel, s in self._senders.items()}
        self._wake = asyncio.Event()
        self._in_flight = asyncio.Semaphore(self._settings.in_flight)
        self._progress_edited: dict[int, float] = {}

    def wake(self) -> None:
        """Called after a transaction that queued rows commits."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("dispatcher: sending through %s", ", ".join(self._senders) or "no messenger")
        while not stop.is_set():
            # Cleared before draining, not after: a wake-up for a row committed while this
            # drain runs must start the next one at once, not after the poll interval.
            self._wake.clear()
            try:
                if await self.drain_once():
                    continue
            except Exception:
                # The database went away, say: the rows wait, and the next poll tries again.
                log.exception("dispatcher: draining the outbox failed")
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(
                waiters, timeout=self._settings.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()

    async def drain_once(self) -> int:
        """Claims one batch and settles it; returns how many rows it handled."""
        now = self._clock()
        async with self._database.session() as session, session.begin():
            outbox = self._services(session).outbox
            recovered = await outbox.recover_stale(now, self._settings.claim_timeout)
            if recovered:
                log.warning(
                    "dispatcher: %d rows left sending by a stopped process retried", recovered
                )
            claimed = await outbox.claim(list(self._senders), now, self._settings.batch_size)
        if claimed:
            await asyncio.gather(*(self._deliver(row) for row in claimed))
            touched = {row.broadcast_id for row in claimed} - {None}
        else:
            # When idle, also finish broadcasts whose last row was settled by a process that
            # stopped before it could send the report.
            touched = set(await self._unfinished_broadcasts())
        await self._report_progress(touched)
        return len(claimed)

    def _services(self, session: AsyncSession) -> Services:
        return Services.for_session(session, self._shared)

    async def _unfinished_broadcasts(self) -> list[int]:
        async with self._database.session() as session:
            return await self._services(session).broadcasts.unfinished()

    async def _deliver(self, row: Claimed) -> None:
        """Sends one row and records the outcome. Never raises: the rows of a batch are
        sent together, and one row's error must not stop the others or the loop."""
        try:
            async with self._in_flight:
                await self._send(row)
        except Exception:
            # The outcome could not be recorded (the database went away): the row stays
            # claimed and is sent again after the claim timeout.
            log.exception("dispatcher: row %d not settled", row.id)

    async def _send(self, row: Claimed) -> None:
        sender = self._senders.get(row.channel)
        if sender is None:
            # Its messenger refused the token while this batch was being sent.
            await self._settle(row, Status.PENDING, refund=True, error="sender stopped")
            return
        try:
            reply = from_payload(row.payload)
        except (KeyError, TypeError, ValueError):
            log.warning("dispatcher: row %d holds a message it cannot read", row.id)
            await self._settle(row, Status.FAILED, error="unreadable payload")
            return
        await self._pacers[row.channel].wait_turn(row.chat_id)
        try:
            message_id = await sender.deliver(row.chat_id, reply)
        except DeliveryError as error:
            await self._failed(row, error)
        except Exception:
            log.exception("dispatcher: unexpected error sending row %d", row.id)
            await self._failed(row, TransientError("unexpected error"))
        else:
            await self._settle(row, Status.SENT, message_id=message_id)
            self._count(row, None, will_retry=False)
            # Stored even when empty: numbers typed after a message without choices must
            # not pick from an older message's (a handbook answer's related topics).
            if sender.numbered_choices and row.account_id is not None:
                async with self._database.session() as session, session.begin():
                    conversations = self._services(session).conversations
                    await conversations.set_choices(row.account_id, stored([reply]))

    def _count(self, row: Claimed, error: DeliveryError | None, *, will_retry: bool) -> None:
        if self._metrics is not None:
            self._metrics.send(row.channel, send_result(error, will_retry=will_retry))

    async def _failed(self, row: Claimed, error: DeliveryError) -> None:
        retrying = isinstance(error, RetryLater | SenderUnauthorized) or (
            isinstance(error, TransientError) and row.attempts < self._settings.max_attempts
        )
        await self._settle_failure(row, error)
        self._count(row, error, will_retry=retrying)

    async def _settle_failure(self, row: Claimed, error: DeliveryError) -> None:
        now = self._clock()
        if isinstance(error, RetryLater):
            self._pacers[row.channel].pause(error.retry_after)
            retry = now + timedelta(seconds=error.retry_after)
            await self._settle(row, Status.PENDING, retry_at=retry, refund=True, error=error.reason)
        elif isinstance(error, SenderUnauthorized):
            # The token is refused: stop this messenger, keep its rows for when it is fixed.
            # Said once, though every send in flight comes back refused.
            if self._senders.pop(row.channel, None) is not None:
                log.critical("dispatcher: %s refused the bot token; its sending stops", row.channel)
            await self._settle(row, Status.PENDING, refund=True, error=error.reason)
        elif isinstance(error, RecipientBlocked):
            async with self._database.session() as session, session.begin():
                outbox = self._services(session).outbox
                await outbox.settle(row.id, Status.BLOCKED, now=now, error=error.reason)
                if row.account_id is not None:
                    await outbox.mark_blocked(row.account_id, now)
        elif isinstance(error, TransientError) and row.attempts < self._settings.max_attempts:
            delay = self._settings.backoff_base * 2 ** (row.attempts - 1)
            retry = now + timedelta(seconds=delay * random.uniform(0.5, 1.5))
            await self._settle(row, Status.PENDING, retry_at=retry, error=error.reason)
        else:
            if not isinstance(error, ChatNotFound | TransientError):
                log.warning("dispatcher: row %d refused: %s", row.id, error.reason)
            await self._settle(row, Status.FAILED, error=error.reason)

    async def _settle(
        self,
        row: Claimed,
        status: Status,
        *,
        message_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
        refund: bool = False,
    ) -> None:
        async with self._database.session() as session, session.begin():
            await self._services(session).outbox.settle(
                row.id,
                status,
                now=self._clock(),
                message_id=message_id,
                error=error,
                retry_at=retry_at,
                refund_attempt=refund,
            )

    async def _report_progress(self, touched: set[int | None]) -> None:
        """Edits each sender's progress message now and then, and queues the final report
        when a broadcast has nothing left to send."""
        loop = asyncio.get_running_loop()
        for broadcast_id in touched:
            assert broadcast_id is not None
            async with self._database.session() as session, session.begin():
                services = self._services(session)
                outbox, broadcasts = services.outbox, services.broadcasts
                finished = await broadcasts.finish_if_done(broadcast_id)
                due = loop.time() - self._progress_edited.get(broadcast_id, 0.0)
                if not finished and due < self._settings.progress_interval:
                    continue
                broadcast = await broadcasts.get(broadcast_id)
                progress = (
                    None
                    if broadcast is None or broadcast.progress_row_id is None
                    else await outbox.row(broadcast.progress_row_id)
                )
                summary = outbox.render(await broadcasts.progress(broadcast_id)).text
            if finished:
                self._wake.set()  # the report row was just queued
            if progress is None or progress.message_id is None or progress.chat_id is None:
                continue
            sender = self._senders.get(progress.channel or "")
            if sender is None:
                continue
            self._progress_edited[broadcast_id] = loop.time()
            with contextlib.suppress(DeliveryError):
                await sender.edit(progress.chat_id, progress.message_id, summary)
