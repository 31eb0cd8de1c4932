"""The daily retention run (bot/services/retention.py), at 3 o'clock and once when a
process is elected, by the leader only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import Database
from bot.models import utcnow
from bot.services.audit import AuditService
from bot.services.retention import RetentionService
from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_ID = "housekeeping"


class Housekeeping:
    def __init__(
        self, database: Database, settings: Settings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._database = database
        self._days = settings.retention_days
        self._clock = clock

    async def run(self) -> dict[str, int]:
        async with self._database.session() as session, session.begin():
            counts = await RetentionService(session, AuditService(session), self._clock).purge(
                self._days
            )
        if any(counts.values()):
            log.info("retention: emptied %s", counts)
        return counts


def schedule_housekeeping(
    scheduler: AsyncIOScheduler, housekeeping: Housekeeping, hour: int = 3
) -> None:
    scheduler.add_job(
        housekeeping.run,
        "cron",
        hour=hour,
        minute=0,
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
    )
