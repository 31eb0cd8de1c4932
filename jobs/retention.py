"""Retention: handbook questions (members' own words, maybe a name or a phone number) and
the texts of sent messages are kept SOTAY_RETENTION_DAYS (180 by default), then purged;
failed linking attempts a day. Daily at 3 o'clock, and once at start to catch up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Text, cast, delete, update

from bot.db import Database
from bot.models import HandbookQuery, LinkFailure, OutboxMessage, utcnow
from bot.services.linking import FAILURE_WINDOW
from bot.services.outbox import Status
from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_ID = "retention"
LINK_FAILURES_KEPT = timedelta(days=1)
assert LINK_FAILURES_KEPT >= FAILURE_WINDOW  # the limits count within the window
# Rows still to send keep their text whatever their age.
_DONE = (Status.SENT, Status.FAILED, Status.BLOCKED, Status.SKIPPED, Status.CANCELLED)


@dataclass(frozen=True)
class Purged:
    queries: int
    messages: int
    link_failures: int


class Retention:
    def __init__(
        self, database: Database, settings: Settings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._database = database
        self._days = settings.retention_days
        self._clock = clock

    async def run(self) -> Purged:
        now = self._clock()
        cutoff = now - timedelta(days=self._days)
        async with self._database.session() as session, session.begin():
            queries = await session.execute(
                delete(HandbookQuery).where(HandbookQuery.asked_at < cutoff)
            )
            # The rows stay (a notice's counts); recipient and body go. The body is compared
            # as text: PostgreSQL's json type has no equality.
            unpurged = OutboxMessage.chat_id.is_not(None) | (
                cast(OutboxMessage.payload, Text) != "{}"
            )
            messages = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.created_at < cutoff,
                    OutboxMessage.status.in_(_DONE),
                    unpurged,
                )
                .values(chat_id=None, payload={}, message_id=None)
                .execution_options(synchronize_session=False)
            )
            failures = await session.execute(
                delete(LinkFailure).where(LinkFailure.at < now - LINK_FAILURES_KEPT)
            )
        purged = Purged(queries.rowcount, messages.rowcount, failures.rowcount)
        if purged.queries or purged.messages:
            log.info(
                "retention: %d handbook questions and %d message texts purged",
                purged.queries,
                purged.messages,
            )
        return purged


def schedule_retention(scheduler: AsyncIOScheduler, retention: Retention, hour: int = 3) -> None:
    scheduler.add_job(
        retention.run,
        "cron",
        hour=hour,
        minute=0,
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
    )
