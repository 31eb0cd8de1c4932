"""Meetings as data: a unit's one-off or monthly meetings, when they are held, who answered
and how, and the changes a secretary makes (members already reminded are told). Their
reminders are bot/services/meetings/reminders.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Meeting, MeetingResponse, Member, Organisation
from bot.services.audit import AuditService
from bot.services.meetings.recurrence import Recurrence, occurrences
from bot.services.meetings.reminders import ReminderService
from bot.services.notices import MeetingCancelled, MeetingChanged, Notice
from bot.services.outbox import OutboxService
from bot.services.permissions import PermissionService, Scope

DEFAULT_OFFSETS = (3 * 24 * 60, 120)  # three days and two hours before


class MeetingKind(StrEnum):
    """Each has the text meetings.kind_<value>, its title when it has none of its own."""

    REGULAR = "regular"
    THEMED = "themed"
    TRAINING = "training"
    OTHER = "other"


@dataclass(frozen=True)
class Occurrence:
    meeting: Meeting
    at: datetime


@dataclass(frozen=True)
class Answer:
    name: str
    answer: str | None  # attend, absent, or None: not answered
    reason: str | None


class MeetingService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        audit: AuditService,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._audit = audit
        self._clock = clock
        self._tz = timezone
        self.reminders = ReminderService(session, outbox, self, clock)

    def occurrences(self, meeting: Meeting, start: datetime, end: datetime) -> list[datetime]:
        if meeting.cancelled_at is not None:
            return []
        if meeting.recurrence is not None:
            rule = Recurrence.from_dict(meeting.recurrence)
            return occurrences(rule, start=start, end=end, tz=self._tz)
        at = meeting.starts_at
        return [at] if at is not None and start <= at < end else []

    async def create(
        self,
        unit_id: int,
        *,
        kind: str,
        title: str,
        place: str,
        actor: str,
        agenda: str | None = None,
        document: str | None = None,
        starts_at: datetime | None = None,
        recurrence: Recurrence | None = None,
        offsets: Sequence[int] = DEFAULT_OFFSETS,
        scope: Scope | None = None,
    ) -> Meeting:
        """A new meeting of the unit; a member sets it up within their `scope`
        (PermissionDenied otherwise), an operator has none."""
        await self._require(scope, unit_id)
        if (starts_at is None) == (recurrence is None):
            raise ValueError("a meeting is either one-off or recurring")
        if kind not in set(MeetingKind):
            raise ValueError(f"unknown kind {kind!r}")
        meeting = Meeting(
            organisation_id=unit_id,
            kind=kind,
            title=title,
            place=place,
            agenda=agenda,
            document=document,
            starts_at=starts_at,
            recurrence=None if recurrence is None else recurrence.to_dict(),
            reminder_offsets=list(offsets),
            created_by=actor,
            created_at=self._clock(),
        )
        self._session.add(meeting)
        await self._session.flush()
        await self.reminders.plan(meeting)
        await self._audit.record(actor, "meeting.create", f"meeting:{meeting.id}", unit=unit_id)
        return meeting

    async def unit_members(self, unit_id: int) -> list[int]:
        rows = await self._session.scalars(
            select(Member.id).where(Member.organisation_id == unit_id, Member.active.is_(True))
        )
        return list(rows)

    async def meeting(self, meeting_id: int) -> Meeting | None:
        return await self._session.get(Meeting, meeting_id)

    async def respond(
        self,
        meeting_id: int,
        occurrence: datetime,
        member_id: int,
        answer: str,
        reason: str | None = None,
    ) -> None:
        """Records the member's answer; answering again replaces it, so it counts once."""
        response = await self._session.scalar(
            select(MeetingResponse).where(
                MeetingResponse.meeting_id == meeting_id,
                MeetingResponse.occurrence_at == occurrence,
                MeetingResponse.member_id == member_id,
            )
        )
        if response is None:
            response = MeetingResponse(
                meeting_id=meeting_id, occurrence_at=occurrence, member_id=member_id
            )
            self._session.add(response)
        response.answer, response.reason, response.answered_at = answer, reason, self._clock()

    async def responses(self, meeting_id: int, occurrence: datetime) -> list[MeetingResponse]:
        rows = await self._session.scalars(
            select(MeetingResponse).where(
                MeetingResponse.meeting_id == meeting_id,
                MeetingResponse.occurrence_at == occurrence,
            )
        )
        return list(rows)

    async def answers(self, meeting_id: int, occurrence: datetime) -> list[Answer]:
        """Who of the unit answered the reminder and how, names in order; members who did
        not answer are included with answer None."""
        meeting = await self._session.get(Meeting, meeting_id)
        if meeting is None:
            return []
        rows = await self._session.execute(
            select(Member.full_name, MeetingResponse.answer, MeetingResponse.reason)
            .outerjoin(
                MeetingResponse,
                and_(
                    MeetingResponse.member_id == Member.id,
                    MeetingResponse.meeting_id == meeting_id,
                    MeetingResponse.occurrence_at == occurrence,
                ),
            )
            .where(Member.organisation_id == meeting.organisation_id, Member.active.is_(True))
            .order_by(Member.full_name)
        )
        return [Answer(name, answer, reason) for name, answer, reason in rows]

    async def _require(self, scope: Scope | None, unit_id: int) -> None:
        if scope is not None:
            await PermissionService(self._session).require(scope, [unit_id])

    async def _in_force(self, meeting_id: int, scope: Scope | None) -> Meeting | None:
        """The meeting unless cancelled, checked against the scope of who changes it."""
        meeting = await self._session.get(Meeting, meeting_id)
        if meeting is None or meeting.cancelled_at is not None:
            return None
        await self._require(scope, meeting.organisation_id)
        return meeting

    async def cancel(
        self,
        meeting_id: int,
        *,
        actor: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> int:
        """Cancels the meeting; members already reminded of a coming occurrence are told.
        Returns how many cancellation notices were queued."""
        meeting = await self._in_force(meeting_id, scope)
        if meeting is None:
            return 0
        now = self._clock()
        meeting.cancelled_at = now
        reminded = await self.reminders.reminded(meeting, now)
        await self.reminders.skip_pending(meeting_id, now)
        notices = await self._tell_cancelled(meeting, reminded, reason, now)
        await self._audit.record(actor, "meeting.cancel", f"meeting:{meeting_id}")
        return notices

    async def skip_occurrence(
        self,
        meeting_id: int,
        occurrence: datetime,
        *,
        actor: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> int:
        """Leaves one occurrence of a recurring meeting out of its schedule; members already
        reminded of it are told. ValueError (Vietnamese) when the schedule has no meeting on
        that date. Returns how many cancellation notices were queued."""
        meeting = await self._in_force(meeting_id, scope)
        if meeting is None or meeting.recurrence is None:
            raise ValueError(f"meeting {meeting_id} is not a recurring meeting in force")
        rule = Recurrence.from_dict(meeting.recurrence)
        meeting.recurrence = rule.skip(occurrence.astimezone(self._tz).date()).to_dict()
        now = self._clock()
        reminded = [at for at in await self.reminders.reminded(meeting, now) if at == occurrence]
        await self.reminders.skip_pending(meeting_id, now, occurrence)
        notices = await self._tell_cancelled(meeting, reminded, reason, now)
        await self._audit.record(
            actor, "meeting.skip", f"meeting:{meeting_id}", occurrence=occurrence.isoformat()
        )
        return notices

    async def reschedule(
        self, meeting_id: int, starts_at: datetime, *, actor: str, scope: Scope | None = None
    ) -> int:
        """Moves a one-off meeting: its reminders are planned again for the new time and
        members already reminded are told. Returns how many change notices were queued."""
        meeting = await self._in_force(meeting_id, scope)
        if meeting is None or meeting.starts_at is None:
            raise ValueError(f"meeting {meeting_id} is not a one-off meeting in force")
        now = self._clock()
        await self.reminders.drop_pending(meeting_id)
        meeting.starts_at = starts_at
        await self.reminders.plan(meeting)
        reminded = await self.reminders.reminded(meeting, now)
        notices = await self._tell_changed(meeting, reminded, now)
        await self._audit.record(
            actor, "meeting.reschedule", f"meeting:{meeting_id}", starts_at=starts_at.isoformat()
        )
        return notices

    async def move_occurrence(
        self,
        meeting_id: int,
        occurrence: datetime,
        to: datetime,
        *,
        actor: str,
        scope: Scope | None = None,
    ) -> int:
        """Moves one occurrence of a recurring meeting (the schedule keeps an exception): its
        reminders are planned for the new time, and members already reminded are told.
        ValueError (Vietnamese) when the schedule has no meeting on that date. Returns how
        many change notices were queued."""
        meeting = await self._in_force(meeting_id, scope)
        if meeting is None or meeting.recurrence is None:
            raise ValueError(f"meeting {meeting_id} is not a recurring meeting in force")
        rule = Recurrence.from_dict(meeting.recurrence)
        meeting.recurrence = rule.move(occurrence.astimezone(self._tz).date(), to).to_dict()
        now = self._clock()
        reminded = occurrence in await self.reminders.reminded(meeting, now)
        await self.reminders.drop_pending(meeting_id, occurrence)
        await self.reminders.plan(meeting)
        notices = await self._tell_changed(meeting, [to], now) if reminded else 0
        await self._audit.record(
            actor,
            "meeting.move",
            f"meeting:{meeting_id}",
            occurrence=occurrence.isoformat(),
            to=to.isoformat(),
        )
        return notices

    async def change_details(
        self,
        meeting_id: int,
        *,
        actor: str,
        place: str | None = None,
        agenda: str | None = None,
        scope: Scope | None = None,
    ) -> int:
        """A new place or agenda; members already reminded of a coming occurrence are told of
        a new place. Returns how many change notices were queued."""
        meeting = await self._in_force(meeting_id, scope)
        if meeting is None:
            raise ValueError(f"meeting {meeting_id} is not in force")
        now = self._clock()
        notices = 0
        if agenda is not None:
            meeting.agenda = agenda
        if place is not None:
            meeting.place = place
            reminded = await self.reminders.reminded(meeting, now)
            notices = await self._tell_changed(meeting, reminded, now)
        changed = [name for name, value in (("place", place), ("agenda", agenda)) if value]
        await self._audit.record(actor, "meeting.change", f"meeting:{meeting_id}", fields=changed)
        return notices

    async def _tell_cancelled(
        self, meeting: Meeting, reminded: list[datetime], reason: str | None, now: datetime
    ) -> int:
        notices = [MeetingCancelled(meeting, occurrence, reason) for occurrence in reminded]
        return await self._tell(meeting, notices, now)

    async def _tell_changed(
        self, meeting: Meeting, occurrences: list[datetime], now: datetime
    ) -> int:
        notices = [MeetingChanged(meeting, occurrence) for occurrence in occurrences]
        return await self._tell(meeting, notices, now)

    async def _tell(self, meeting: Meeting, notices: Sequence[Notice], now: datetime) -> int:
        """Queues each notice to the unit's members; how many rows were queued."""
        members = await self.unit_members(meeting.organisation_id)
        queued = 0
        for notice in notices:
            counts = await self._outbox.enqueue_members(
                members, notice, kind="meeting_change", now=now
            )
            queued += sum(counts.values())
        return queued

    async def upcoming(self, unit_id: int, days: int) -> list[Occurrence]:
        now = self._clock()
        meetings = await self._session.scalars(
            select(Meeting).where(
                Meeting.organisation_id == unit_id, Meeting.cancelled_at.is_(None)
            )
        )
        found = [
            Occurrence(meeting, at)
            for meeting in meetings
            for at in self.occurrences(meeting, now, now + timedelta(days=days))
        ]
        return sorted(found, key=lambda o: o.at)

    async def unit_name(self, unit_id: int) -> str:
        return (
            await self._session.scalar(select(Organisation.name).where(Organisation.id == unit_id))
            or ""
        )
