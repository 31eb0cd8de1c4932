"""Attendance at the occurrences of a unit's meetings: the secretary marks who attended,
prefilled from the members' answers, and a year's record per member counts the months with
an absence without a reason (the rule on members who miss Party meetings three months in a
year without a good reason)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Meeting, MeetingResponse, Member
from bot.services.audit import AuditService
from bot.services.meetings.calendar import MeetingService, Occurrence
from bot.services.meetings.recurrence import Recurrence, occurrences
from bot.services.permissions import Actor, PermissionService

RECENT_DAYS = 14
# Months with an absence without a reason that put a member up for removal.
FLAG_MONTHS = 3


# Each occurrence's responses (meeting id, UTC moment), by member.
Responses = dict[tuple[int, datetime], dict[int, MeetingResponse]]


class Mark(StrEnum):
    ATTENDED = "attended"
    EXCUSED = "excused"  # absent, with a reason
    UNEXCUSED = "unexcused"  # absent, no reason given
    UNMARKED = "unmarked"


@dataclass(frozen=True)
class Cell:
    mark: Mark
    reason: str | None = None


@dataclass(frozen=True)
class MemberRecord:
    member_id: int
    full_name: str
    cells: tuple[Cell, ...]  # one per occurrence, in the sheet's order
    unexcused_months: tuple[int, ...]

    def count(self, mark: Mark) -> int:
        return sum(cell.mark is mark for cell in self.cells)

    @property
    def flagged(self) -> bool:
        return len(self.unexcused_months) >= FLAG_MONTHS


@dataclass(frozen=True)
class UnitRecord:
    unit_id: int
    occurrences: tuple[Occurrence, ...]
    members: tuple[MemberRecord, ...]

    def member(self, member_id: int) -> MemberRecord | None:
        return next((m for m in self.members if m.member_id == member_id), None)


@dataclass(frozen=True)
class YearTally:
    """A unit's attendance over a year: occurrences held, and of the marks given (members
    at occurrences the secretary marked), how many were present."""

    held: int = 0
    attended: int = 0
    marked: int = 0
    flagged: int = 0  # members absent without a reason in FLAG_MONTHS months or more

    @property
    def rate(self) -> float:
        return self.attended / self.marked if self.marked else 0.0

    def __add__(self, other: YearTally) -> YearTally:
        return YearTally(
            self.held + other.held,
            self.attended + other.attended,
            self.marked + other.marked,
            self.flagged + other.flagged,
        )

    @classmethod
    def of(cls, record: UnitRecord) -> YearTally:
        cells = [cell for member in record.members for cell in member.cells]
        return cls(
            held=len(record.occurrences),
            attended=sum(cell.mark is Mark.ATTENDED for cell in cells),
            marked=sum(cell.mark is not Mark.UNMARKED for cell in cells),
            flagged=sum(member.flagged for member in record.members),
        )


def _cell(response: MeetingResponse | None) -> Cell:
    if response is None or response.attended is None:
        return Cell(Mark.UNMARKED)
    if response.attended:
        return Cell(Mark.ATTENDED)
    reason = (response.reason or "").strip()
    return Cell(Mark.EXCUSED, reason) if reason else Cell(Mark.UNEXCUSED)


def _key(meeting_id: int, at: datetime) -> tuple[int, datetime]:
    return meeting_id, at.astimezone(UTC)


class AttendanceService:
    def __init__(
        self,
        session: AsyncSession,
        meetings: MeetingService,
        audit: AuditService,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._meetings = meetings
        self._audit = audit
        self._clock = clock
        self._tz = timezone

    async def held(self, unit_id: int, start: datetime, end: datetime) -> list[Occurrence]:
        """Occurrences of the unit's meetings (not cancelled) in [start, end), oldest first."""
        meetings = await self._session.scalars(
            select(Meeting).where(Meeting.organisation_id == unit_id).order_by(Meeting.id)
        )
        found = [
            Occurrence(meeting, at)
            for meeting in meetings
            for at in self._occurrences(meeting, start, end)
        ]
        return sorted(found, key=lambda o: (o.at, o.meeting.id))

    def _occurrences(self, meeting: Meeting, start: datetime, end: datetime) -> list[datetime]:
        """A cancelled meeting keeps the occurrences it had before it was cancelled."""
        cancelled = meeting.cancelled_at
        if cancelled is None:
            return self._meetings.occurrences(meeting, start, end)
        end = min(end, cancelled)
        if meeting.recurrence is not None:
            rule = Recurrence.from_dict(meeting.recurrence)
            return occurrences(rule, start=start, end=end, tz=self._tz) if start < end else []
        at = meeting.starts_at
        return [at] if at is not None and start <= at < end else []

    async def recent(self, unit_id: int) -> list[Occurrence]:
        """Occurrences of the last two weeks that already began, newest first."""
        now = self._clock()
        found = await self.held(unit_id, now - timedelta(days=RECENT_DAYS), now)
        return found[::-1]

    async def is_recent(self, meeting: Meeting, at: datetime) -> bool:
        """Whether `at` is an occurrence of the meeting within the last two weeks (button
        data is checked against the schedule, not trusted)."""
        return any(
            o.meeting.id == meeting.id and o.at == at
            for o in await self.recent(meeting.organisation_id)
        )

    async def members(self, unit_id: int) -> list[tuple[int, str]]:
        """The unit's active members (id, name), by name."""
        rows = await self._session.execute(
            select(Member.id, Member.full_name)
            .where(Member.organisation_id == unit_id, Member.active.is_(True))
            .order_by(Member.full_name, Member.id)
        )
        return [(member_id, name) for member_id, name in rows]

    async def _responses(self, meeting_ids: Collection[int]) -> Responses:
        rows = await self._session.scalars(
            select(MeetingResponse).where(MeetingResponse.meeting_id.in_(meeting_ids))
        )
        found: Responses = {}
        for row in rows:
            found.setdefault(_key(row.meeting_id, row.occurrence_at), {})[row.member_id] = row
        return found

    async def prefill(self, meeting: Meeting, at: datetime) -> list[int]:
        """Members shown as present: as already marked, else those who answered attend."""
        responses = (await self._responses([meeting.id])).get(_key(meeting.id, at), {})
        present = []
        for member_id, _ in await self.members(meeting.organisation_id):
            response = responses.get(member_id)
            if response is None:
                continue
            marked = response.attended
            if marked or (marked is None and response.answer == "attend"):
                present.append(member_id)
        return present

    async def save(
        self, meeting: Meeting, at: datetime, present: Collection[int], *, by: Actor
    ) -> tuple[int, int]:
        """Marks every active member of the unit present or absent for this occurrence,
        creating the rows of members who never answered. Returns (present, total);
        PermissionDenied when the meeting's unit is outside the actor's scope."""
        await PermissionService(self._session).require(by.scope, [meeting.organisation_id])
        responses = (await self._responses([meeting.id])).get(_key(meeting.id, at), {})
        members = await self.members(meeting.organisation_id)
        for member_id, _ in members:
            response = responses.get(member_id)
            if response is None:
                response = MeetingResponse(
                    meeting_id=meeting.id, occurrence_at=at, member_id=member_id
                )
                self._session.add(response)
            response.attended = member_id in present
        attended = sum(member_id in present for member_id, _ in members)
        await self._audit.record(
            by.ref,
            "attendance.save",
            f"meeting:{meeting.id}",
            occurrence=at.astimezone(UTC).isoformat(),
            present=attended,
            total=len(members),
        )
        return attended, len(members)

    def year_bounds(self, year: int) -> tuple[datetime, datetime]:
        """From the start of the year (local time) to its end or now, whichever is first."""
        start = datetime.combine(date(year, 1, 1), time.min, self._tz)
        end = datetime.combine(date(year + 1, 1, 1), time.min, self._tz)
        return start, min(end, self._clock())

    async def year(self, unit_id: int, year: int) -> UnitRecord:
        """Every occurrence of the unit's meetings that took place in the year, and each
        active member's mark at each."""
        start, end = self.year_bounds(year)
        held = await self.held(unit_id, start, end) if start < end else []
        responses = await self._responses({o.meeting.id for o in held})
        records = []
        for member_id, name in await self.members(unit_id):
            cells = tuple(
                _cell(responses.get(_key(o.meeting.id, o.at), {}).get(member_id)) for o in held
            )
            records.append(
                MemberRecord(member_id, name, cells, self._unexcused_months(held, cells))
            )
        return UnitRecord(unit_id, tuple(held), tuple(records))

    def _unexcused_months(
        self, held: Sequence[Occurrence], cells: Sequence[Cell]
    ) -> tuple[int, ...]:
        months = {
            o.at.astimezone(self._tz).month
            for o, cell in zip(held, cells, strict=True)
            if cell.mark is Mark.UNEXCUSED
        }
        return tuple(sorted(months))
