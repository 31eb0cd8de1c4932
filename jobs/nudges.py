"""Nudges to secretaries, through the outbox: from the 20th of each month, a unit with members
and no regular meeting next month is asked to set one (/taohop); a meeting with no agenda
two days ahead is flagged. Each nudge is recorded in the audit log ("nudge.sent") and looked
up there before sending, so a restart or a second run never sends it twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.messages import Reply
from bot.models import AuditEntry, Meeting, Member, RoleGrant, utcnow
from bot.services.audit import AuditService
from bot.services.meetings.calendar import MeetingService, Occurrence
from bot.services.meetings.when import format_when
from bot.services.organisations import member_counts
from bot.services.outbox import OutboxService
from bot.services.permissions import Role
from bot.settings import Settings
from bot.texts import text

log = logging.getLogger(__name__)

ACTOR = "system:nudges"
ACTION = "nudge.sent"
NUDGE_DAY = 20
# An occurrence on one of the next two days (or later today) without an agenda is flagged.
AGENDA_DAYS = 2
JOB_ID = "secretary-nudges"
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


class _Run:
    """One pass over the units and meetings, in one transaction."""

    def __init__(self, session: AsyncSession, now: datetime, tz: ZoneInfo) -> None:
        self._session = session
        self._now = now
        self._tz = tz
        self._outbox = OutboxService(session)
        self._audit = AuditService(session)
        self._meetings = MeetingService(session, self._outbox, self._audit, lambda: now, tz)

    async def _already_sent(self, target: str) -> bool:
        found = await self._session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == ACTION, AuditEntry.target == target)
        )
        return found is not None

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

    async def _send_once(self, unit_id: int, target: str, reply: Reply) -> bool:
        """Sends to the unit's secretaries unless this nudge was sent before."""
        if await self._already_sent(target):
            return False
        secretaries = await self._secretaries(unit_id)
        if not secretaries:
            return False
        await self._outbox.enqueue_members(secretaries, reply, kind="nudge", now=self._now)
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
            reply = Reply(
                text(
                    "attendance.nudge_regular",
                    unit=await self._meetings.unit_name(unit_id),
                    month=f"{month:02d}/{year}",
                )
            )
            target = f"unit:{unit_id}:regular:{year}-{month:02d}"
            sent += await self._send_once(unit_id, target, reply)
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
            reply = Reply(
                text(
                    "attendance.nudge_agenda",
                    title=self._meetings.title(meeting),
                    unit=await self._meetings.unit_name(meeting.organisation_id),
                    when=format_when(occurrence.at, self._tz),
                )
            )
            day = occurrence.at.astimezone(self._tz).date().isoformat()
            target = f"meeting:{meeting.id}:agenda:{day}"
            sent += await self._send_once(meeting.organisation_id, target, reply)
        return sent


class SecretaryNudges:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._database = database
        self._tz = settings.timezone
        self._clock = clock
        self._notify_outbox = notify_outbox

    async def run(self, now: datetime | None = None) -> int:
        """Sends every nudge due at `now` (the clock's time by default) that was not sent
        before; returns how many."""
        moment = self._clock() if now is None else now
        async with self._database.session() as session, session.begin():
            run = _Run(session, moment, self._tz)
            sent = await run.regular_meetings() + await run.missing_agendas()
        if sent:
            log.info("nudges: %d sent to secretaries", sent)
            self._notify_outbox()
        return sent


def schedule_nudges(scheduler: AsyncIOScheduler, nudges: SecretaryNudges, hour: int = 8) -> None:
    """Runs the nudges every day at `hour` o'clock in the scheduler's time zone (create it
    with settings.timezone). Calling `nudges.run()` at start as well catches up a day the
    process was down; the audit log keeps each nudge to one."""
    scheduler.add_job(
        nudges.run,
        "cron",
        hour=hour,
        minute=0,
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
    )
