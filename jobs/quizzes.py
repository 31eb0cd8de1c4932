"""Quiz windows on time: APScheduler (3.x) only wakes the process at the next moment a quiz
opens, is reminded or closes; the quiz rows say what is due, so a restart rebuilds the
schedule from the database and each event happens once (the quiz row records it in the
transaction that does it)."""

from __future__ import annotations

from datetime import datetime

from jobs.wakeups import DueWork

WAKE_JOB = "quiz-events"


class QuizScheduler(DueWork):
    job_id = WAKE_JOB

    async def handle_due(self, now: datetime) -> int:
        """Opens, reminds and closes every quiz that is due, each in its own transaction."""
        async with self._database.session() as session:
            due = await self._services(session).quizzes.due_events(now)
        handled = 0
        for event in due:
            async with self._database.session() as session, session.begin():
                handled += await self._services(session).quizzes.run_due(event)
        return handled

    async def next_due(self) -> datetime | None:
        async with self._database.session() as session:
            return await self._services(session).quizzes.next_due()
