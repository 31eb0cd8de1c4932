"""The daily run of the probationary-year reminders (bot/services/probation.py): every day at
8 o'clock, and once at start to catch up a day the process was down; the reminders table
keeps each reminder to one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import Database
from bot.models import utcnow
from bot.services import Services, Shared
from bot.services.notices import Renderer
from bot.settings import Settings
from handlers.notices import render_notice

log = logging.getLogger(__name__)

JOB_ID = "probation-reminders"


class ProbationReminders:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify_outbox: Callable[[], None] = lambda: None,
        render: Renderer = render_notice,
    ) -> None:
        self._database = database
        self._shared = Shared(settings, clock=clock, render=render)
        self._clock = clock
        self._notify_outbox = notify_outbox

    async def run(self, now: datetime | None = None) -> int:
        """Queues every reminder due at `now` (the clock's time by default) not sent
        before; returns how many."""
        moment = self._clock() if now is None else now
        shared = replace(self._shared, clock=lambda: moment)
        async with self._database.session() as session, session.begin():
            sent = await Services.for_session(session, shared).probation.send_due()
        if sent:
            log.info("probation: %d reminders queued", sent)
            self._notify_outbox()
        return sent


def schedule_probation(
    scheduler: AsyncIOScheduler, reminders: ProbationReminders, hour: int = 8
) -> None:
    """Runs the reminders every day at `hour` o'clock in the scheduler's time zone."""
    scheduler.add_job(
        reminders.run,
        "cron",
        hour=hour,
        minute=0,
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
    )
