"""Nudges to secretaries, through the outbox: from the 20th of each month, a unit with members
and no regular meeting next month is asked to set one (/taohop); a meeting with no agenda
two days ahead is flagged. Each secretary's copy of a nudge is keyed in the outbox
(`nudge:<target>/m<member>`, bot/services/outbox_once.py), so a restart, a second run or two
leaders overlapping in a failover never send it twice; the audit log ("nudge.sent") records
it for people. The daily run is jobs/nudges.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Meeting, Member, RoleGrant
from bot.services.audit import AuditService
from bot.services.meetings.calendar import MeetingService, Occurrence
from bot.services.notices import AgendaMissing, Notice, RegularMeetingMissing
from bot.services.organisations import member_counts
from bot.services.outbox import OutboxService
from bot.services.outbox_once import enqueue_members_once
from bot.services.permissions import Role

ACTOR = "system:nudges"
ACTION = "nudge.sent"
NUDGE_DAY = 20
# An occurrence on one of the next two days (or later today) without an agenda is flagged.
AGENDA_DAYS = 2
SECRETARY_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY)


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's, local time."""
    following = date(year + month // 12, month % 12 + 1, 1)
    return (
        datetime.combine(date(year, month, 1), time.min, tz),
        datetime.combine(following, time.min, tz),
    )


def next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


class NudgeService:
    """One pass over the units and meetings at `now`, in the caller's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        audit: AuditService,
        meetings: MeetingService,
        now: datetime,
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._audit = audit
        self._meetings = meetings
        self._now = now
        self._tz = timezone

    async def _secretaries(self, unit_id: int) -> list[int]:
        rows = await self._session.scalars(
            select(RoleGrant.member_id)
            .join(Member, Member.id == RoleGrant.member_id)
            .where(
                RoleGrant.organisation_id == unit_id,
                RoleGrant.role.in_(SECRETARY_ROLES),
                Member.active.is_(True),
            )
        )
        return sorted(set(rows))

    async def _send_once(self, unit_id: int, target: str, notice: Notice) -> bool:
        """Sends to the unit's secretaries; each is sent this nudge once, whoever runs it
        (a secretary appointed after the unit was nudged gets it at the next run)."""
        secretaries = await self._secretaries(unit_id)
        if not secretaries:
            return False
        reply = self._outbox.render(notice)
        queued = await enqueue_members_once(
            self._session, f"nudge:{target}", secretaries, reply, kind="nudge", now=self._now
        )
        if not queued.inserted:
            return False
        await self._audit.record(ACTOR, ACTION, target, unit=unit_id)
        return True

    async def _has_regular(self, unit_id: int, start: datetime, end: datetime) -> bool:
        meetings = await self._session.scalars(
            select(Meeting).where(Meeting.organisation_id == unit_id, Meeting.kind == "regular")
        )
        return any(self._meetings.occurrences(m, start, end) for m in meetings)

    async def regular_meetings(self) -> int:
        """From the 20th on: units with members and no regular meeting next month."""
        today = self._now.astimezone(self._tz).date()
        if today.day < NUDGE_DAY:
            return 0
        year, month = next_month(today)
        start, end = month_bounds(year, month, self._tz)
        sent = 0
        for unit_id in sorted(await member_counts(self._session)):
            if await self._has_regular(unit_id, start, end):
                continue
            notice = RegularMeetingMissing(await self._meetings.unit_name(unit_id), year, month)
            target = f"unit:{unit_id}:regular:{year}-{month:02d}"
            sent += await self._send_once(unit_id, target, notice)
        return sent

    async def _coming(self) -> list[Occurrence]:
        meetings = await self._session.scalars(select(Meeting).order_by(Meeting.id))
        today = self._now.astimezone(self._tz).date()
        end = datetime.combine(today + timedelta(days=AGENDA_DAYS + 1), time.min, self._tz)
        return [
            Occurrence(meeting, at)
            for meeting in meetings
            for at in self._meetings.occurrences(meeting, self._now, end)
        ]

    async def missing_agendas(self) -> int:
        """Occurrences from now to the end of the day after tomorrow whose meeting has no
        agenda."""
        sent = 0
        for occurrence in await self._coming():
            meeting = occurrence.meeting
            if (meeting.agenda or "").strip():
                continue
            unit = await self._meetings.unit_name(meeting.organisation_id)
            notice = AgendaMissing(meeting, unit, occurrence.at)
            day = occurrence.at.astimezone(self._tz).date().isoformat()
            target = f"meeting:{meeting.id}:agenda:{day}"
            sent += await self._send_once(meeting.organisation_id, target, notice)
        return sent
