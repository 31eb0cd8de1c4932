"""The daily run of the nudges to secretaries (bot/services/meetings/nudges.py): at 8 o'clock,
and once at start to catch up a day the process was down."""

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

JOB_ID = "secretary-nudges"


class SecretaryNudges:
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
        """Sends every nudge due at `now` (the clock's time by default) that was not sent
        before; returns how many."""
        moment = self._clock() if now is None else now
        shared = replace(self._shared, clock=lambda: moment)
        async with self._database.session() as session, session.begin():
            nudges = Services.for_session(session, shared).nudges
            sent = await nudges.regular_meetings() + await nudges.missing_agendas()
        if sent:
            log.info("nudges: %d sent to secretaries", sent)
            self._notify_outbox()
        return sent


def schedule_nudges(scheduler: AsyncIOScheduler, nudges: SecretaryNudges, hour: int = 8) -> None:
    """Runs the nudges every day at `hour` o'clock in the scheduler's time zone (create it
    with settings.timezone). Calling `nudges.run()` at start as well catches up a day the
    process was down; the audit log keeps each nudge to one."""
    scheduler.add_job(
        nudges.run,
        "cron",
        hour=hour,
        minute=0,
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
    )
