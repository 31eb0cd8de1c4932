"""Hourly clean-up: messenger accounts that hold nothing are forgotten a day after they last
wrote (bot/services/accounts.py, `purge_empty`), so that stray senders leave no row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import Database
from bot.models import utcnow
from bot.services.accounts import EMPTY_ACCOUNT_TTL, AccountService
from bot.services.audit import AuditService

log = logging.getLogger(__name__)

JOB_ID = "housekeeping"


class Housekeeping:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._database = database
        self._clock = clock

    async def run(self) -> int:
        """Purges the empty accounts; returns how many went."""
        async with self._database.session() as session, session.begin():
            accounts = AccountService(session, AuditService(session))
            purged = await accounts.purge_empty(self._clock() - EMPTY_ACCOUNT_TTL)
        if purged:
            log.info("housekeeping: %d empty messenger accounts forgotten", purged)
        return purged


def schedule_housekeeping(scheduler: AsyncIOScheduler, housekeeping: Housekeeping) -> None:
    """Every hour; several processes running it at once do no harm."""
    scheduler.add_job(
        housekeeping.run,
        "interval",
        hours=1,
        id=JOB_ID,
        replace_existing=True,
        coalesce=True,
    )
