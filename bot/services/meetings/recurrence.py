"""Recurring chi bộ meetings as data: "ngày 15 hằng tháng" or "thứ Sáu tuần thứ 2 hằng tháng",
with one-off exceptions (a meeting skipped, or moved to another day and time).

A rule is a frozen `Recurrence` that round-trips through a JSON-able dict (the app keeps it in
a JSON column). Its time of day is a wall-clock time, made aware only when occurrences are
computed: the local datetime is built first and the zone attached to it, so the meeting stays
at 19:30 local time across any DST change. A moved meeting's new time is stored aware.

ValueError messages about what a member chooses (day of the month, week, end date, which
meeting an exception is for) are Vietnamese, so a handler can show them as they are; the
ones only a programming mistake can cause are English.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.meetings.when import WEEKDAY_NAMES, format_date, format_time

LAST_WEEK = -1
_WEEKS = (1, 2, 3, 4, LAST_WEEK)


class Kind(StrEnum):
    MONTHLY_DAY = "monthly_day"  # day N of every month; 29-31 fall back to the last day
    MONTHLY_WEEKDAY = "monthly_weekday"  # the Y-th (or last) given weekday of every month


@dataclass(frozen=True)
class Skip:
    """The meeting of `original` (its scheduled date) does not take place."""

    original: date

    def to_dict(self) -> dict[str, str]:
        return {"skip": self.original.isoformat()}


@dataclass(frozen=True)
class Move:
    """The meeting of `original` (its scheduled date) takes place at `to` instead."""

    original: date
    to: datetime

    def __post_init__(self) -> None:
        if self.to.tzinfo is None:
            raise ValueError("a moved meeting's new time must be timezone-aware")

    def to_dict(self) -> dict[str, str]:
        return {"move": self.original.isoformat(), "to": self.to.isoformat()}


# An exception to the schedule: one meeting skipped or moved.
Change = Skip | Move


@dataclass(frozen=True)
class Recurrence:
    """A monthly schedule. Build it with `monthly_day` or `monthly_weekday`.

    `weekday` counts like `date.weekday()`: 0 is Monday (thứ Hai) … 6 is Sunday (Chủ nhật).
    `week` is 1..4, or LAST_WEEK (-1) for the last such weekday of the month; a fifth week is
    refused because most months do not have one. `starts` and `ends` are inclusive dates.
    """

    kind: Kind
    at: time
    starts: date
    day: int | None = None
    weekday: int | None = None
    week: int | None = None
    ends: date | None = None
    exceptions: tuple[Change, ...] = ()

    @classmethod
    def monthly_day(
        cls, day: int, at: time, *, starts: date, ends: date | None = None
    ) -> Recurrence:
        return cls(Kind.MONTHLY_DAY, at, starts, day=day, ends=ends)

    @classmethod
    def monthly_weekday(
        cls, weekday: int, week: int, at: time, *, starts: date, ends: date | None = None
    ) -> Recurrence:
        return cls(Kind.MONTHLY_WEEKDAY, at, starts, weekday=weekday, week=week, ends=ends)

    def __post_init__(self) -> None:
        self._check_pattern()
        if self.at.tzinfo is not None or self.at.second or self.at.microsecond:
            raise ValueError("at must be a naive wall-clock time in whole minutes")
        if self.ends is not None and self.ends < self.starts:
            raise ValueError(
                f"Ngày kết thúc {format_date(self.ends)} ở trước ngày bắt đầu "
                f"{format_date(self.starts)}."
            )
        # Canonical order, so equal schedules compare equal however they were built.
        ordered = tuple(sorted(self.exceptions, key=lambda exception: exception.original))
        object.__setattr__(self, "exceptions", ordered)
        self._check_exceptions()

    def _check_pattern(self) -> None:
        if self.kind is Kind.MONTHLY_DAY:
            if self.weekday is not None or self.week is not None:
                raise ValueError("a monthly_day rule takes a day, not a weekday or week")
            if self.day not in range(1, 32):
                raise ValueError("Ngày trong tháng phải từ 1 đến 31.")
            return
        if self.day is not None:
            raise ValueError("a monthly_weekday rule takes a weekday and week, not a day")
        if self.weekday not in range(7):
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if self.week not in _WEEKS:
            raise ValueError(
                "Chỉ chọn được tuần thứ 1 đến 4, hoặc tuần cuối cùng của tháng "
                "(không phải tháng nào cũng có tuần thứ 5)."
            )

    def _check_exceptions(self) -> None:
        originals = [exception.original for exception in self.exceptions]
        for original in originals:
            if originals.count(original) > 1:
                raise ValueError(f"Buổi họp ngày {format_date(original)} có hai thay đổi.")
            if not self.is_scheduled_on(original):
                raise ValueError(
                    f"Ngày {format_date(original)} không có buổi họp nào theo lịch này."
                )

    def date_in_month(self, year: int, month: int) -> date:
        """The meeting date the rule gives in that month, before start, end and exceptions."""
        last_day = calendar.monthrange(year, month)[1]
        if self.kind is Kind.MONTHLY_DAY:
            return date(year, month, min(self.day, last_day))
        if self.week == LAST_WEEK:
            last = date(year, month, last_day)
            return last - timedelta(days=(last.weekday() - self.weekday) % 7)
        first = date(year, month, 1)
        return first + timedelta(days=(self.weekday - first.weekday()) % 7, weeks=self.week - 1)

    def is_scheduled_on(self, day: date) -> bool:
        """True when the rule itself (exceptions aside) puts a meeting on that date."""
        in_range = self.starts <= day and (self.ends is None or day <= self.ends)
        return in_range and self.date_in_month(day.year, day.month) == day

    def skip(self, original: date) -> Recurrence:
        """The same schedule without the meeting of `original`; replaces an earlier change."""
        return self._with_exception(Skip(original))

    def move(self, original: date, to: datetime) -> Recurrence:
        """The same schedule with the meeting of `original` at `to` (aware) instead."""
        return self._with_exception(Move(original, to))

    def _with_exception(self, exception: Change) -> Recurrence:
        others = tuple(e for e in self.exceptions if e.original != exception.original)
        return replace(self, exceptions=(*others, exception))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; `from_dict` reads it back."""
        if self.kind is Kind.MONTHLY_DAY:
            pattern: dict[str, Any] = {"day": self.day}
        else:
            pattern = {"weekday": self.weekday, "week": self.week}
        return {
            "kind": self.kind.value,
            **pattern,
            "time": self.at.strftime("%H:%M"),
            "starts": self.starts.isoformat(),
            "ends": None if self.ends is None else self.ends.isoformat(),
            "exceptions": [exception.to_dict() for exception in self.exceptions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recurrence:
        """The rule `to_dict` wrote; ValueError when `data` is not one."""
        try:
            ends = data["ends"]
            return cls(
                kind=Kind(data["kind"]),
                at=time.fromisoformat(data["time"]),
                starts=date.fromisoformat(data["starts"]),
                day=data.get("day"),
                weekday=data.get("weekday"),
                week=data.get("week"),
                ends=None if ends is None else date.fromisoformat(ends),
                exceptions=tuple(_exception_from_dict(item) for item in data["exceptions"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a recurrence: {data!r}") from error


def _exception_from_dict(data: Mapping[str, str]) -> Change:
    if "skip" in data:
        return Skip(date.fromisoformat(data["skip"]))
    return Move(date.fromisoformat(data["move"]), datetime.fromisoformat(data["to"]))


def _require_aware(*moments: datetime) -> None:
    if any(moment.tzinfo is None for moment in moments):
        raise ValueError("datetimes must be timezone-aware")


def _scheduled_dates(rule: Recurrence, since: date) -> Iterator[date]:
    """The rule's dates from the month of `since` (or of the start) on, exceptions aside;
    endless when the rule has no end date."""
    first = max(since, rule.starts)
    year, month = first.year, first.month
    while True:
        day = rule.date_in_month(year, month)
        if rule.ends is not None and day > rule.ends:
            return
        if day >= rule.starts:
            yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _regular(rule: Recurrence, since: date, tz: ZoneInfo) -> Iterator[datetime]:
    """Meetings at their scheduled time, from the month of `since` on, skipping every date
    that has an exception."""
    changed = {exception.original for exception in rule.exceptions}
    for day in _scheduled_dates(rule, since):
        if day not in changed:
            yield datetime.combine(day, rule.at, tzinfo=tz)


def _moved(rule: Recurrence, tz: ZoneInfo) -> list[datetime]:
    return [e.to.astimezone(tz) for e in rule.exceptions if isinstance(e, Move)]


def occurrences(
    rule: Recurrence, *, start: datetime, end: datetime, tz: ZoneInfo
) -> list[datetime]:
    """The meetings in [start, end), sorted, aware in `tz`: moved ones at their new time,
    skipped ones left out."""
    _require_aware(start, end)
    last_day = end.astimezone(tz).date()
    found = [moment for moment in _moved(rule, tz) if start <= moment < end]
    for moment in _regular(rule, start.astimezone(tz).date(), tz):
        if moment.date() > last_day:
            break
        if start <= moment < end:
            found.append(moment)
    return sorted(found)


def next_occurrence(rule: Recurrence, *, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first meeting strictly later than `after`, or None when the schedule has ended."""
    _require_aware(after)
    candidates = [moment for moment in _moved(rule, tz) if moment > after]
    regular = (m for m in _regular(rule, after.astimezone(tz).date(), tz) if m > after)
    first_regular = next(regular, None)  # ends: exceptions are finite, or the rule ends
    if first_regular is not None:
        candidates.append(first_regular)
    return min(candidates, default=None)


def describe(rule: Recurrence) -> str:
    """The schedule in Vietnamese: "Ngày 15 hằng tháng, lúc 19:30"."""
    if rule.kind is Kind.MONTHLY_DAY:
        pattern = f"Ngày {rule.day} hằng tháng"
        if rule.day > 28:
            pattern += f" (tháng không có ngày {rule.day} thì họp ngày cuối tháng)"
    else:
        weekday = WEEKDAY_NAMES[rule.weekday]
        week = "cuối cùng" if rule.week == LAST_WEEK else f"tuần thứ {rule.week}"
        pattern = f"{weekday[0].upper()}{weekday[1:]} {week} hằng tháng"
    text = f"{pattern}, lúc {format_time(rule.at)}"
    if rule.ends is not None:
        text += f", đến hết ngày {format_date(rule.ends)}"
    return text
