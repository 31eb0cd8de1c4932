"""Meeting reminders on time: APScheduler (3.x) only wakes the process at the next due
reminder; what is due lives in the database, so a restart rebuilds the schedule from there
and a reminder missed while the process was down is sent once if still within the grace
period, and skipped with a log line otherwise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.models import utcnow
from bot.services.audit import AuditService
from bot.services.meetings.calendar import MeetingService
from bot.services.outbox import OutboxService
from bot.settings import Settings

log = logging.getLogger(__name__)

WAKE_JOB = "meeting-reminders"
# Also look every few minutes: recurring meetings get their reminders planned ahead, and
# meetings another process created are noticed.
PLAN_EVERY = timedelta(minutes=5)


class ReminderScheduler:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify_outbox: Callable[[], None] = lambda: None,
        scheduler: AsyncIOScheduler | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock
        self._notify_outbox = notify_outbox
        self._grace = timedelta(hours=settings.reminder_grace_hours)
        # One scheduler per process serves every job; this class starts and stops it.
        self._scheduler = scheduler or AsyncIOScheduler(timezone=settings.timezone)

    def _service(self, session: AsyncSession) -> MeetingService:
        return MeetingService(
            session,
            OutboxService(session),
            AuditService(session),
            self._clock,
            self._settings.timezone,
        )

    async def start(self) -> None:
        if not self._scheduler.running:  # the scheduler may be shared with other jobs
            self._scheduler.start()
        self._scheduler.add_job(
            self.run_due, "interval", seconds=PLAN_EVERY.total_seconds(), id="plan-ahead"
        )
        await self.run_due()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def poke(self) -> None:
        """Meetings changed: look again now."""
        self._wake_at(self._clock())

    def _wake_at(self, moment: datetime) -> None:
        self._scheduler.add_job(
            self.run_due,
            "date",
            run_date=moment,
            id=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,  # late is still better than never: the grace rule decides
        )

    async def run_due(self) -> int:
        """Sends (or skips) every due reminder, each in its own transaction, then sleeps
        until the next one. Returns how many were sent."""
        async with self._database.session() as session, session.begin():
            await self._service(session).plan_all()
        async with self._database.session() as session:
            due = await self._service(session).due(self._clock())
        sent = 0
        for reminder_id in due:
            async with self._database.session() as session, session.begin():
                sent += await self._service(session).send_reminder(reminder_id, self._grace)
        if sent:
            log.info("reminders: %d sent", sent)
            self._notify_outbox()
        async with self._database.session() as session:
            upcoming = await self._service(session).next_due()
        if upcoming is not None and self._scheduler.running:
            self._wake_at(max(upcoming, self._clock()))
        return sent
