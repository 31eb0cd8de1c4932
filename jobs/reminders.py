"""Meeting reminders on time. What is due lives in the database (reminder rows), so a
reminder missed while the process was down is sent once if still within the grace period,
and skipped with a log line otherwise."""

from __future__ import annotations

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
from jobs.wakeups import DueWork

WAKE_JOB = "meeting-reminders"


class ReminderScheduler(DueWork):
    job_id = WAKE_JOB

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify_outbox: Callable[[], None] = lambda: None,
        scheduler: AsyncIOScheduler | None = None,
    ) -> None:
        super().__init__(
            database, settings, clock=clock, notify_outbox=notify_outbox, scheduler=scheduler
        )
        self._grace = timedelta(hours=settings.reminder_grace_hours)

    def _service(self, session: AsyncSession) -> MeetingService:
        return MeetingService(
            session,
            OutboxService(session),
            AuditService(session),
            self._clock,
            self._settings.timezone,
        )

    async def handle_due(self, now: datetime) -> int:
        """Plans reminders coming into the horizon, then sends (or skips) each due one."""
        async with self._database.session() as session, session.begin():
            await self._service(session).plan_all()
        async with self._database.session() as session:
            due = await self._service(session).due(now)
        sent = 0
        for reminder_id in due:
            async with self._database.session() as session, session.begin():
                sent += await self._service(session).send_reminder(reminder_id, self._grace)
        return sent

    async def next_due(self) -> datetime | None:
        async with self._database.session() as session:
            return await self._service(session).next_due()
