"""Meeting reminders as rows: each coming occurrence's reminders are planned ahead (within the
horizon; the scheduler, jobs/reminders.py, extends recurring meetings as it runs) and each
is sent once through the outbox, or skipped when it is later than the grace period allows.
A change to a meeting drops or skips its pending reminders and plans them again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Meeting, MeetingReminder
from bot.services.notices import MeetingReminder as Reminder
from bot.services.outbox import OutboxService
from bot.services.outbox_once import enqueue_members_once

if TYPE_CHECKING:
    from bot.services.meetings.calendar import MeetingService

log = logging.getLogger(__name__)

# Reminders are planned this far ahead.
HORIZON = timedelta(days=45)


class ReminderService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        calendar: MeetingService,
        clock: Callable[[], datetime],
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._calendar = calendar
        self._clock = clock

    async def plan(self, meeting: Meeting) -> int:
        """Adds the reminder rows of the coming occurrences that are not planned yet; a
        reminder already due when it is planned is not created (the meeting is new)."""
        now = self._clock()
        existing = set(
            (
                await self._session.execute(
                    select(MeetingReminder.occurrence_at, MeetingReminder.offset_minutes).where(
                        MeetingReminder.meeting_id == meeting.id
                    )
                )
            ).all()
        )
        added = 0
        for occurrence in self._calendar.occurrences(meeting, now, now + HORIZON):
            for offset in meeting.reminder_offsets:
                due = occurrence - timedelta(minutes=offset)
                if due <= now or (occurrence, offset) in existing:
                    continue
                self._session.add(
                    MeetingReminder(
                        meeting_id=meeting.id,
                        occurrence_at=occurrence,
                        offset_minutes=offset,
                        due_at=due,
                        status="pending",
                    )
                )
                added += 1
        return added

    async def plan_all(self) -> int:
        """Plans reminders as the horizon reaches them: every recurring meeting, and one-off
        meetings still ahead (an imported year is mostly beyond the horizon at first)."""
        now = self._clock()
        meetings = await self._session.scalars(
            select(Meeting).where(
                Meeting.cancelled_at.is_(None),
                or_(
                    Meeting.recurrence.is_not(None),
                    and_(Meeting.starts_at > now, Meeting.starts_at <= now + HORIZON),
                ),
            )
        )
        return sum([await self.plan(meeting) for meeting in meetings])

    async def next_due(self) -> datetime | None:
        return await self._session.scalar(
            select(func.min(MeetingReminder.due_at)).where(MeetingReminder.status == "pending")
        )

    async def due(self, now: datetime) -> list[int]:
        rows = await self._session.scalars(
            select(MeetingReminder.id)
            .where(MeetingReminder.status == "pending", MeetingReminder.due_at <= now)
            .order_by(MeetingReminder.due_at)
        )
        return list(rows)

    async def send_reminder(self, reminder_id: int, grace: timedelta) -> bool:
        """Sends one due reminder to the unit's members, or skips it when it is later than
        the grace period allows; either way it is marked, in the same transaction, so it is
        never sent twice. True if it was sent."""
        now = self._clock()
        reminder = await self._session.get(MeetingReminder, reminder_id, with_for_update=True)
        if reminder is None or reminder.status != "pending":
            return False
        meeting = await self._session.get(Meeting, reminder.meeting_id)
        assert meeting is not None
        reminder.handled_at = now
        late = now - reminder.due_at
        if meeting.cancelled_at is not None or late > grace:
            reminder.status = "skipped"
            if meeting.cancelled_at is None:
                log.warning(
                    "reminder %d of meeting %d skipped: %s late, beyond the grace period",
                    reminder.id,
                    meeting.id,
                    late,
                )
            return False
        reminder.status = "sent"
        await enqueue_members_once(
            self._session,
            f"reminder:{reminder.id}",
            await self._calendar.unit_members(meeting.organisation_id),
            self._outbox.render(Reminder(meeting, reminder.occurrence_at)),
            kind="reminder",
            now=now,
        )
        return True

    async def pending(self, meeting_id: int) -> list[datetime]:
        """When the meeting's planned reminders go out, earliest first."""
        rows = await self._session.scalars(
            select(MeetingReminder.due_at)
            .where(MeetingReminder.meeting_id == meeting_id, MeetingReminder.status == "pending")
            .order_by(MeetingReminder.due_at)
        )
        return list(rows)

    async def reminded(self, meeting: Meeting, now: datetime) -> list[datetime]:
        """The coming occurrences members were already reminded of; a one-off meeting's
        at its current time, even when they were reminded of one it had before."""
        rows = await self._session.scalars(
            select(MeetingReminder.occurrence_at)
            .where(
                MeetingReminder.meeting_id == meeting.id,
                MeetingReminder.status == "sent",
                MeetingReminder.occurrence_at > now,
            )
            .distinct()
        )
        reminded = list(rows)
        if meeting.starts_at is not None:
            return [meeting.starts_at] if reminded else []
        return reminded

    async def skip_pending(
        self, meeting_id: int, now: datetime, occurrence: datetime | None = None
    ) -> None:
        """Marks the meeting's pending reminders (of one occurrence, if given) skipped."""
        query = update(MeetingReminder).where(
            MeetingReminder.meeting_id == meeting_id, MeetingReminder.status == "pending"
        )
        if occurrence is not None:
            query = query.where(MeetingReminder.occurrence_at == occurrence)
        await self._session.execute(query.values(status="skipped", handled_at=now))

    async def drop_pending(self, meeting_id: int, occurrence: datetime | None = None) -> None:
        """Deletes the meeting's pending reminders (of one occurrence, if given), to plan
        them again: deleted rather than skipped, so moving back to an earlier time plans
        them again."""
        query = delete(MeetingReminder).where(
            MeetingReminder.meeting_id == meeting_id, MeetingReminder.status == "pending"
        )
        if occurrence is not None:
            query = query.where(MeetingReminder.occurrence_at == occurrence)
        await self._session.execute(query)
