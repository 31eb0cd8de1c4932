"""Quiz windows on time: APScheduler (3.x) only wakes the process at the next moment a quiz
opens, is reminded or closes; the quiz rows say what is due, so a restart rebuilds the
schedule from the database and each event happens once (the quiz row records it in the
transaction that does it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.models import utcnow
from bot.services.audit import AuditService
from bot.services.outbox import OutboxService
from bot.services.quizzes.service import QuizService
from bot.settings import Settings

log = logging.getLogger(__name__)

WAKE_JOB = "quiz-events"
# Also look every few minutes, so quizzes another process scheduled are noticed.
LOOK_EVERY = timedelta(minutes=5)


class QuizScheduler:
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
        self._scheduler = scheduler or AsyncIOScheduler(timezone=settings.timezone)

    def _service(self, session: AsyncSession) -> QuizService:
        return QuizService(
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
            self.run_due, "interval", seconds=LOOK_EVERY.total_seconds(), id="quiz-look"
        )
        await self.run_due()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def poke(self) -> None:
        """Quizzes changed: look again now."""
        self._wake_at(self._clock())

    def _wake_at(self, moment: datetime) -> None:
        self._scheduler.add_job(
            self.run_due,
            "date",
            run_date=moment,
            id=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_due(self) -> int:
        """Opens, reminds and closes every quiz that is due, each in its own transaction,
        then sleeps until the next moment. Returns how many events were handled."""
        async with self._database.session() as session:
            due = await self._service(session).due_events(self._clock())
        handled = 0
        for event in due:
            async with self._database.session() as session, session.begin():
                handled += await self._service(session).run_due(event)
        if handled:
            log.info("quizzes: %d events handled", handled)
            self._notify_outbox()
        async with self._database.session() as session:
            upcoming = await self._service(session).next_due()
        if upcoming is not None and self._scheduler.running:
            self._wake_at(max(upcoming, self._clock()))
        return handled
