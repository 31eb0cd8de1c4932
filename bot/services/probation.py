"""The probationary year (Điều lệ Đảng, Điều 5): a member admitted on a day is probationary
for 12 months; within 30 working days after they end, the chi bộ must consider recognising
them as a full member. From the roster's admission date and sponsors this service gives the
timeline (/dubi) and sends, through the outbox:

- a month before the 12 months end, the member a reminder to prepare the self-review, and
  each sponsor the roster names a reminder to prepare their comments;
- when the 12 months end, the unit's secretaries a reminder to put the recognition on the
  agenda of a meeting within the 30 working days.

Each reminder is a row of `probation_reminders` inserted (INSERT ... ON CONFLICT DO NOTHING)
in the transaction that queues it, so a restart, a second run or two processes send it once;
a day the process was down is caught up by the next run, until the deadline has passed."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation, ProbationReminder, RoleGrant
from bot.services.notices import ProbationAgenda, ProbationSelfReview, ProbationSponsor
from bot.services.outbox import OutboxService
from bot.services.permissions import Role, Scope

PROBATION_MONTHS = 12
# The self-review and the sponsors' comments are prepared from this long before the end.
PREPARE_MONTHS = 1
CONSIDER_WORKING_DAYS = 30
SECRETARY_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY)
OUTBOX_KIND = "probation"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), or the month's last day if it has none."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def working_days_after(day: date, count: int) -> date:
    """`count` working days (Monday to Friday) after `day`; public holidays are not known
    here, so the date shown is the latest the rule could mean without them."""
    moved = day
    while count:
        moved += timedelta(days=1)
        if moved.weekday() < 5:
            count -= 1
    return moved


@dataclass(frozen=True)
class Timeline:
    admitted_on: date
    prepare_from: date
    ends_on: date
    consider_by: date

    @classmethod
    def of(cls, admitted_on: date) -> Timeline:
        ends_on = add_months(admitted_on, PROBATION_MONTHS)
        return cls(
            admitted_on=admitted_on,
            prepare_from=add_months(ends_on, -PREPARE_MONTHS),
            ends_on=ends_on,
            consider_by=working_days_after(ends_on, CONSIDER_WORKING_DAYS),
        )


class Kind(StrEnum):
    SELF_REVIEW = "self_review"
    SPONSOR = "sponsor"
    AGENDA = "agenda"


@dataclass(frozen=True)
class Probationer:
    """A probationary member as /dubi shows them; no timeline without an admission date."""

    member_id: int
    full_name: str
    unit: str
    timeline: Timeline | None


class ProbationService:
    """The probationary year at `now`, in the caller's transaction."""

    def __init__(
        self, session: AsyncSession, outbox: OutboxService, now: datetime, timezone: ZoneInfo
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._now = now
        self._tz = timezone

    @property
    def today(self) -> date:
        return self._now.astimezone(self._tz).date()

    async def of_member(self, member_id: int) -> Probationer | None:
        """The member's probationary year, or None when they are a full member."""
        row = (
            await self._session.execute(
                select(Member.full_name, Member.probationary, Member.admission_date, Organisation)
                .join(Organisation, Organisation.id == Member.organisation_id)
                .where(Member.id == member_id)
            )
        ).one()
        name, probationary, admitted_on, unit = row
        if not probationary:
            return None
        return Probationer(member_id, name, unit.name, _timeline(admitted_on))

    async def in_scope(self, scope: Scope) -> list[Probationer]:
        """The active probationary members of the units in `scope`, soonest end first."""
        rows = await self._session.execute(
            select(Member.id, Member.full_name, Organisation.name, Member.admission_date)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                Member.probationary.is_(True),
                Member.active.is_(True),
                scope.where(Organisation.path),
            )
        )
        found = [Probationer(i, name, unit, _timeline(day)) for i, name, unit, day in rows]
        return sorted(
            found,
            key=lambda p: (p.timeline is None, p.timeline and p.timeline.ends_on, p.full_name),
        )

    async def send_due(self) -> int:
        """Queues every reminder due today that was not sent before; returns how many."""
        today = self.today
        # Admitted between the oldest year still before its deadline and the newest whose
        # preparation has begun (a wide bound; each timeline decides).
        oldest = add_months(today, -PROBATION_MONTHS) - timedelta(days=2 * CONSIDER_WORKING_DAYS)
        newest = add_months(today, PREPARE_MONTHS - PROBATION_MONTHS)
        rows = await self._session.execute(
            select(
                Member.id,
                Member.full_name,
                Member.organisation_id,
                Organisation.name,
                Member.admission_date,
                Member.sponsor_card_1,
                Member.sponsor_card_2,
            )
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                Member.probationary.is_(True),
                Member.active.is_(True),
                Member.admission_date.between(oldest, newest),
            )
            .order_by(Member.id)
        )
        sent = 0
        for member_id, name, unit_id, unit, admitted_on, *sponsor_cards in rows:
            timeline = Timeline.of(admitted_on)
            if not timeline.prepare_from <= today <= timeline.consider_by:
                continue
            review = ProbationSelfReview(name, timeline)
            sent += await self._send_once(
                member_id, admitted_on, Kind.SELF_REVIEW, member_id, review
            )
            sponsor = ProbationSponsor(name, unit, timeline)
            for sponsor_id in await self._active_members(c for c in sponsor_cards if c):
                sent += await self._send_once(
                    member_id, admitted_on, Kind.SPONSOR, sponsor_id, sponsor
                )
            if today >= timeline.ends_on:
                agenda = ProbationAgenda(name, unit, timeline)
                for secretary_id in await self._secretaries(unit_id):
                    sent += await self._send_once(
                        member_id, admitted_on, Kind.AGENDA, secretary_id, agenda
                    )
        return sent

    async def _send_once(
        self,
        member_id: int,
        admitted_on: date,
        kind: Kind,
        recipient_id: int,
        notice: ProbationSelfReview | ProbationSponsor | ProbationAgenda,
    ) -> int:
        """Records the reminder and queues it, unless it was recorded before."""
        inserted = await self._session.scalar(
            _insert(self._session),
            {
                "member_id": member_id,
                "admitted_on": admitted_on,
                "kind": kind,
                "recipient_id": recipient_id,
                "sent_at": self._now,
            },
        )
        if inserted is None:
            return 0
        await self._outbox.enqueue_members([recipient_id], notice, kind=OUTBOX_KIND, now=self._now)
        return 1

    async def _active_members(self, cards: Iterable[str]) -> list[int]:
        wanted = list(cards)
        if not wanted:
            return []
        found = await self._session.scalars(
            select(Member.id).where(Member.card_number.in_(wanted), Member.active.is_(True))
        )
        return sorted(found)

    async def _secretaries(self, unit_id: int) -> list[int]:
        found = await self._session.scalars(
            select(RoleGrant.member_id)
            .join(Member, Member.id == RoleGrant.member_id)
            .where(
                RoleGrant.organisation_id == unit_id,
                RoleGrant.role.in_(SECRETARY_ROLES),
                Member.active.is_(True),
            )
        )
        return sorted(set(found))


def _timeline(admitted_on: date | None) -> Timeline | None:
    return None if admitted_on is None else Timeline.of(admitted_on)


def _insert(session: AsyncSession) -> Insert:
    table = ProbationReminder.__table__
    make = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    return make(table).on_conflict_do_nothing().returning(table.c.id)
