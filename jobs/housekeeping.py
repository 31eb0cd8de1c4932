"""The daily clean-up, run by the elected process at 3 o'clock and once when a process is
elected: personal data past its retention (bot/services/retention.py), stored updates handled
days ago (kept that long to know a late redelivery for what it is) and messenger accounts of
strangers that hold nothing (bot/services/accounts.py: purge_unlinked)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import Database
from bot.models import utcnow
from bot.services import Services, Shared
from bot.services.audit import AuditService
from bot.services.retention import RetentionService
from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_ID = "housekeeping"
# Telegram redelivers an unacknowledged update for about a day.
INTAKE_KEEP = timedelta(days=7)
# An unknown sender's account is kept this long after its last message, and one halfway
# through a flow (/start's consent, a card number asked) this long, so that a stranger is
# not forgotten mid-sentence.
IDLE_ACCOUNT_KEEP = timedelta(days=1)
ABANDONED_FLOW_KEEP = timedelta(days=30)


class Housekeeping:
    def __init__(
        self,
        database: Database,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._database = database
        self._settings = settings or Settings()
        self._clock = clock
        self._shared = Shared(self._settings, clock=clock)

    async def run(self, now: datetime | None = None) -> dict[str, int]:
        """Purges what is due at `now` (the clock's time by default); returns how many rows
        went or were emptied, per kind."""
        moment = self._clock() if now is None else now
        async with self._database.session() as session, session.begin():
            services = Services.for_session(session, self._shared)
            counts = await RetentionService(session, AuditService(session), lambda: moment).purge(
                self._settings.retention_days
            )
            counts["intake_updates"] = await services.intake.purge_done(moment - INTAKE_KEEP)
            counts["empty_accounts"] = await services.accounts.purge_unlinked(
                moment - IDLE_ACCOUNT_KEEP, moment - ABANDONED_FLOW_KEEP
            )
        if any(counts.values()):
            log.info("housekeeping: %s", counts)
        return counts


def schedule_housekeeping(
    scheduler: AsyncIOScheduler, housekeeping: Housekeeping, hour: int = 3
) -> None:
    """Every day at `hour` o'clock in the scheduler's time zone; a day missed is caught up
    the next, nothing is lost by waiting."""
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
