"""The probationary year's reminders on time: APScheduler (3.x) only wakes the process at the
next one due; the member rows say what was sent (bot/services/probation.py)."""

from __future__ import annotations

from datetime import datetime

from jobs.wakeups import DueWork

WAKE_JOB = "probation-reminders"


class ProbationScheduler(DueWork):
    job_id = WAKE_JOB

    async def handle_due(self, now: datetime) -> int:
        async with self._database.session() as session, session.begin():
            return await self._services(session).probation.remind_due()

    async def next_due(self) -> datetime | None:
        async with self._database.session() as session:
            return await self._services(session).probation.next_due()
