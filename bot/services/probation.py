"""The probationary year: a member admitted on a day is probationary for 12 months from it
(Điều lệ Đảng, Điều 5); when they end, the chi bộ must consider recognising the member as a
full member within 30 working days. A month before the end, the member is reminded to
prepare the self-review, the two sponsors (when the roster names them) to prepare their
comments, and the unit's secretaries to put the recognition on a meeting's agenda.

The reminders go through the outbox keyed by member and year's end, and the member row
records the end they were sent for in the same transaction, so a restart or a catch-up
sends none twice; a corrected admission date is reminded for its new end."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation, RoleGrant
from bot.services.notices import ProbationReminder
from bot.services.outbox import OutboxService
from bot.services.outbox_once import enqueue_members_once
from bot.services.permissions import Role

MONTHS = 12
REMIND_MONTHS_BEFORE = 1
CONSIDER_WORKING_DAYS = 30
REMIND_AT = time(8, 0)  # local time, as the secretaries' nudges
# A reminder missed by this much after the year ended is no longer worth sending.
STALE_AFTER = timedelta(days=45)
SECRETARY_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY)


class Recipient(StrEnum):
    MEMBER = "member"
    SPONSOR = "sponsor"
    SECRETARY = "secretary"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_working_days(day: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `day`."""
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


@dataclass(frozen=True)
class Timeline:
    admitted: date
    ends: date  # the 12 months end the day before
    remind_on: date
    consider_by: date
    months_done: int  # full months of the year passed by today, 0 to 12


def timeline(admitted: date, today: date) -> Timeline:
    ends = add_months(admitted, MONTHS)
    done = next((m for m in range(MONTHS, -1, -1) if add_months(admitted, m) <= today), 0)
    return Timeline(
        admitted,
        ends,
        add_months(admitted, MONTHS - REMIND_MONTHS_BEFORE),
        add_working_days(ends, CONSIDER_WORKING_DAYS),
        done,
    )


class ProbationService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._clock = clock
        self._tz = timezone

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def timeline_of(self, admitted: date) -> Timeline:
        return timeline(admitted, self.today())

    async def admission(self, member_id: int) -> date | None:
        """The admission date of a probationary member (None for a full member, or when the
        roster gives no date)."""
        member = await self._session.get(Member, member_id)
        if member is None or not member.probationary:
            return None
        return member.admission_date

    def _moment(self, day: date) -> datetime:
        return datetime.combine(day, REMIND_AT, self._tz)

    async def _waiting(self) -> list[tuple[Member, Timeline]]:
        """Probationary members whose reminders for this year are not sent and not stale."""
        members = await self._session.scalars(
            select(Member).where(
                Member.active.is_(True),
                Member.probationary.is_(True),
                Member.admission_date.is_not(None),
            )
        )
        now = self._clock()
        found = []
        for member in members:
            assert member.admission_date is not None
            line = timeline(member.admission_date, now.astimezone(self._tz).date())
            stale = now > self._moment(line.ends) + STALE_AFTER
            if member.probation_reminded_for != line.ends and not stale:
                found.append((member, line))
        return found

    async def next_due(self) -> datetime | None:
        return min(
            (self._moment(line.remind_on) for _, line in await self._waiting()), default=None
        )

    async def remind_due(self) -> int:
        """Sends every reminder due by now; returns how many members' reminders went."""
        now = self._clock()
        handled = 0
        for member, line in await self._waiting():
            if self._moment(line.remind_on) > now:
                continue
            await self._remind(member, line, now)
            member.probation_reminded_for = line.ends
            handled += 1
        return handled

    async def _remind(self, member: Member, line: Timeline, now: datetime) -> None:
        unit = await self._session.get(Organisation, member.organisation_id)
        assert unit is not None
        key = f"probation:{member.id}:{line.ends.isoformat()}"
        sponsors = list(
            await self._session.scalars(
                select(Member.id).where(
                    Member.card_number.in_(
                        [c for c in (member.sponsor1_card, member.sponsor2_card) if c]
                    ),
                    Member.active.is_(True),
                )
            )
        )
        secretaries = sorted(
            set(
                await self._session.scalars(
                    select(RoleGrant.member_id)
                    .join(Member, Member.id == RoleGrant.member_id)
                    .where(
                        RoleGrant.organisation_id == member.organisation_id,
                        RoleGrant.role.in_(SECRETARY_ROLES),
                        Member.active.is_(True),
                    )
                )
            )
        )
        for recipient, ids in (
            (Recipient.MEMBER, [member.id]),
            (Recipient.SPONSOR, sponsors),
            (Recipient.SECRETARY, secretaries),
        ):
            if not ids:
                continue
            notice = ProbationReminder(
                recipient.value, member.full_name, unit.name, line.ends, line.consider_by
            )
            await enqueue_members_once(
                self._session,
                f"{key}:{recipient.value}",
                ids,
                self._outbox.render(notice),
                kind="probation_reminder",
                now=now,
            )
        self._outbox.enqueued = True
