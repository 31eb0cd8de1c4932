"""The question a day on time: APScheduler (3.x) only wakes the process at the next slot a
member chose; the subscriptions and the day's rows say what is owed, so a restart plans
what it missed that day and nothing twice (bot/services/quizzes/daily.py)."""

from __future__ import annotations

from datetime import datetime

from jobs.wakeups import DueWork

WAKE_JOB = "daily-questions"


class DailyScheduler(DueWork):
    job_id = WAKE_JOB

    async def handle_due(self, now: datetime) -> int:
        async with self._database.session() as session, session.begin():
            return await self._services(session).daily.plan_due()

    async def next_due(self) -> datetime | None:
        async with self._database.session() as session:
            return await self._services(session).daily.next_due()
