"""Meeting reminders on time. What is due lives in the database (reminder rows), so a
reminder missed while the process was down is sent once if still within the grace period,
and skipped with a log line otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

from jobs.wakeups import DueWork

WAKE_JOB = "meeting-reminders"


class ReminderScheduler(DueWork):
    job_id = WAKE_JOB

    async def handle_due(self, now: datetime) -> int:
        """Plans reminders coming into the horizon, then sends (or skips) each due one."""
        async with self._database.session() as session, session.begin():
            await self._services(session).reminders.plan_all()
        async with self._database.session() as session:
            due = await self._services(session).reminders.due(now)
        grace = timedelta(hours=self._settings.reminder_grace_hours)
        sent = 0
        for reminder_id in due:
            async with self._database.session() as session, session.begin():
                sent += await self._services(session).reminders.send_reminder(reminder_id, grace)
        return sent

    async def next_due(self) -> datetime | None:
        async with self._database.session() as session:
            return await self._services(session).reminders.next_due()
