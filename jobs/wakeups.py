"""Scheduled work whose due moments live in the database: APScheduler (3.x) only wakes the
process at the next one, and looks again every few minutes for work another process added.
A restart rebuilds the schedule from the database."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.models import utcnow
from bot.services import Services, Shared
from bot.services.notices import Renderer
from bot.settings import Settings
from handlers.notices import render_notice

log = logging.getLogger(__name__)

LOOK_EVERY = timedelta(minutes=5)


class DueWork(ABC):
    job_id: str  # the APScheduler job that wakes this work

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify_outbox: Callable[[], None] = lambda: None,
        scheduler: AsyncIOScheduler | None = None,
        render: Renderer = render_notice,
    ) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock
        self._notify_outbox = notify_outbox
        self._shared = Shared(settings, clock=clock, render=render)
        # One scheduler per process may serve several kinds of work.
        self._scheduler = scheduler or AsyncIOScheduler(timezone=settings.timezone)

    def _services(self, session: AsyncSession) -> Services:
        return Services.for_session(session, self._shared)

    @abstractmethod
    async def handle_due(self, now: datetime) -> int:
        """Does everything due at `now`, each item in its own transaction; returns how many
        items queued messages."""

    @abstractmethod
    async def next_due(self) -> datetime | None:
        """The next moment work is due, or None."""

    async def start(self) -> None:
        if not self._scheduler.running:
            self._scheduler.start()
        self._scheduler.add_job(
            self.run_due,
            "interval",
            seconds=LOOK_EVERY.total_seconds(),
            id=f"{self.job_id}-look",
            replace_existing=True,
        )
        await self.run_due()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def poke(self) -> None:
        """The schedule changed: look again now."""
        self._wake_at(self._clock())

    def _wake_at(self, moment: datetime) -> None:
        self._scheduler.add_job(
            self.run_due,
            "date",
            run_date=moment,
            id=self.job_id,
            replace_existing=True,
            misfire_grace_time=None,  # late is better than never; the work decides what is stale
        )

    async def run_due(self) -> int:
        handled = await self.handle_due(self._clock())
        if handled:
            log.info("%s: %d handled", self.job_id, handled)
            self._notify_outbox()
        upcoming = await self.next_due()
        if upcoming is not None and self._scheduler.running:
            self._wake_at(max(upcoming, self._clock()))
        return handled
