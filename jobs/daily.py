"""The question a day on time: APScheduler (3.x) wakes the process at the earliest moment a
subscriber's question is due; the subscriptions say what is due, so a restart rebuilds the
schedule from the database, and the send rows keep each member's day to one question. Due
members are handled in chunks, each in its own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.services.daily import CHUNK
from jobs.wakeups import DueWork

WAKE_JOB = "daily-questions"


class DailyScheduler(DueWork):
    job_id = WAKE_JOB

    async def handle_due(self, now: datetime) -> int:
        grace = timedelta(hours=self._settings.reminder_grace_hours)
        queued = 0
        while True:
            async with self._database.session() as session, session.begin():
                daily = self._services(session).daily
                due = await daily.due_members(now, CHUNK)
                if not due:
                    return queued
                queued += await daily.send_due(due, grace)

    async def next_due(self) -> datetime | None:
        async with self._database.session() as session:
            return await self._services(session).daily.next_due()
