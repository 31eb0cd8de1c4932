"""Dates and times as chi bộ secretaries type them: "5/12", "thứ 6 tuần sau", "19h30",
"2 giờ chiều", "5/12 lúc 14h".

Pure functions: the current moment is always passed in (`now`, aware), never read from the
clock. Input is matched with and without diacritics ("thu 6 tuan sau" = "thứ 6 tuần sau").
Errors raise `DateTimeInputError`, whose message is a Vietnamese sentence for the member.

Written on the standard library rather than dateparser: dateparser does not know these
Vietnamese forms ("thứ 6 tuần sau", "mốt", "19h30", "2 giờ chiều", "chủ nhật tuần này").

Readings chosen here:
- A bare weekday ("thứ 2", "t6", "cn", also "thứ 6 này", "thứ 6 tới") is the next such day
  from tomorrow on: "thứ 4" typed on a Wednesday is the Wednesday a week later.
- Weeks run Monday to Sunday: "tuần này" is the current one (its days already gone are
  errors), "tuần sau" / "tuần tới" the one starting next Monday.
- A day and month without a year is the next one that is not in the past: today counts,
  5/1 typed in December is next January. Two-digit years are 20yy.
- An hour without "sáng/trưa/chiều/tối" is on the 24-hour clock: "7h" is 7 in the morning.
  Callers should show `format_when` back to the member before saving anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")

# Longer inputs are not a date or a time: refused before any pattern runs.
_MAX_LENGTH = 100
_QUOTE_LENGTH = 30
# Words that only introduce a date or a time: "vào ngày 5/12 lúc 14h".
_FILLERS = frozenset({"luc", "vao"})

_HINTS = {
    "ngày": "Đồng chí gõ theo dạng 5/12 hoặc 05/12/2026, hoặc «thứ 6 tuần sau».",
    "giờ": "Đồng chí gõ theo dạng 19h30 hoặc 19:30, hoặc «7 giờ tối».",
    "ngày giờ": "Đồng chí gõ cả ngày và giờ, ví dụ «19h30 thứ 6 tuần sau» hoặc «5/12 lúc 14h».",
}

# All patterns below run on folded text: lowercase, no diacritics ("thứ sáu" → "thu sau").
_RELATIVE_DAYS = {
    "hom nay": 0,
    "nay": 0,  # what is left of "tối nay" once the part of the day is taken off
    "mai": 1,
    "ngay mai": 1,
    "ngay kia": 2,
    "mot": 2,
    "ngay mot": 2,
}
_WEEKDAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}
_WEEKDAY = re.compile(
    r"(?:thu\s*(?P<number>[2-7])|thu\s+(?P<word>hai|ba|tu|nam|sau|bay)|t(?P<short>[2-7])"
    r"|(?P<sunday>chu\s*nhat|cn))"
    r"(?:\s+(?P<week>tuan\s+nay|tuan\s+sau|tuan\s+toi|nay|toi))?"
)
_NUMERIC_DATE = re.compile(
    r"(?:ngay\s+)?(?P<day>\d{1,2})\s*(?P<sep>[/.-])\s*(?P<month>\d{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<year>\d{4}|\d{2}))?"
)
_WORDED_DATE = re.compile(
    r"(?:ngay\s+)?(?P<day>\d{1,2})\s+thang\s+(?P<month>\d{1,2})(?:\s+nam\s+(?P<year>\d{4}))?"
)
# Days in each month of a leap year: more than this never exists.
_MOST_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_TIME = re.compile(
    r"""
    (?<![\w/.:-])                       # not the tail of a number, a word or a date
    (?P<hour>\d{1,2})\s*
    (?:
        :\s*(?P<colon_minute>\d{2})
      | (?:gio\s*|h|g)                  # "8 giờ 30", but "19h30": "19h 5/12" is 19:00
        (?:(?P<minute>\d{1,2})(?!\s*thang)(?:\s*(?:phut|p))?|\s*(?P<half>ruoi))?
    )
    (?![\w:/.-])
    (?:\s+(?P<period>sang|trua|chieu|toi)(?!\w))?
    """,
    re.VERBOSE,
)
# The hours (24-hour clock) each part of the day covers; "7 giờ tối" is 7 or 19: 19 fits.
_PERIOD_HOURS = {
    "sang": range(0, 12),
    "trua": range(10, 15),
    "chieu": range(12, 20),
    "toi": range(17, 24),
}


class DateTimeInputError(ValueError):
    """A date or time a member typed that cannot be used; str() is the Vietnamese reason."""


@dataclass(frozen=True)
class _Typed:
    """Typed text in two aligned forms of equal length: `shown` (NFC, single spaces) for
    quoting back, `folded` (lowercase, no diacritics) for matching."""

    shown: str
    folded: str

    @classmethod
    def from_words(cls, shown_words: list[str], folded_words: list[str]) -> _Typed:
        kept = [(s, f) for s, f in zip(shown_words, folded_words, strict=True) if f not in _FILLERS]
        return cls(" ".join(s for s, _ in kept), " ".join(f for _, f in kept))

    def cut(self, start: int, end: int) -> _Typed:
        """What is left around the span start:end."""
        shown = f"{self.shown[:start]} {self.shown[end:]}"
        folded = f"{self.folded[:start]} {self.folded[end:]}"
        return _Typed.from_words(shown.split(), folded.split())

    def split_period(self) -> tuple[str | None, _Typed]:
        """A leading part of the day ("chiều mai", "tối 7 giờ") and the rest."""
        shown_words, folded_words = self.shown.split(" "), self.folded.split(" ")
        if folded_words[0] in _PERIOD_HOURS:
            return folded_words[0], _Typed.from_words(shown_words[1:], folded_words[1:])
        return None, self


def _fold_char(char: str) -> str:
    """One character lowercased without its diacritics: always exactly one character."""
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0]
    lower = base.lower()
    return lower if len(lower) == 1 else base


def _read(text: str, subject: str) -> _Typed:
    """The typed text ready for matching; empty or overlong input is an error."""
    stripped = text.strip()
    if len(stripped) > _MAX_LENGTH:
        raise _unreadable(subject, stripped)
    words = unicodedata.normalize("NFC", stripped).replace(",", " ").strip(" .!?").split()
    if not words:
        raise DateTimeInputError(f"Đồng chí chưa gõ {subject}.")
    return _Typed.from_words(words, ["".join(map(_fold_char, word)) for word in words])


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_LENGTH else f"{text[:_QUOTE_LENGTH]}…"


def _unreadable(subject: str, shown: str) -> DateTimeInputError:
    return DateTimeInputError(f"Không hiểu {subject} «{_quote(shown)}». {_HINTS[subject]}")


def _local_today(now: datetime, tz: ZoneInfo) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz).date()


def _relative_date(folded: str, today: date) -> date | None:
    days = _RELATIVE_DAYS.get(folded)
    return None if days is None else today + timedelta(days=days)


def _weekday_date(folded: str, today: date) -> date | None:
    match = _WEEKDAY.fullmatch(folded)
    if match is None:
        return None
    if match["sunday"]:
        weekday = 6
    elif match["word"]:
        weekday = _WEEKDAY_WORDS[match["word"]]
    else:
        weekday = int(match["number"] or match["short"]) - 2
    week = match["week"] or ""
    monday = today - timedelta(days=today.weekday())
    if week == "tuan nay":
        return monday + timedelta(days=weekday)
    if week.startswith("tuan"):
        return monday + timedelta(weeks=1, days=weekday)
    # Bare, "này" or "tới": the next such day from tomorrow on.
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _calendar_date(folded: str, today: date) -> date | None:
    match = _NUMERIC_DATE.fullmatch(folded) or _WORDED_DATE.fullmatch(folded)
    if match is None:
        return None
    day, month = int(match["day"]), int(match["month"])
    if not 1 <= month <= 12 or not 1 <= day <= _MOST_DAYS[month - 1]:
        raise DateTimeInputError(f"Ngày {day}/{month} không có thật.")
    if match["year"] is None:
        year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    else:
        year = int(match["year"]) + (2000 if len(match["year"]) == 2 else 0)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateTimeInputError(f"Ngày {day}/{month}/{year} không có thật.") from None


def _date_from(part: _Typed, today: date) -> date:
    found = (
        _relative_date(part.folded, today)
        or _weekday_date(part.folded, today)
        or _calendar_date(part.folded, today)
    )
    if found is None:
        raise _unreadable("ngày", part.shown)
    if found < today:
        raise DateTimeInputError(f"Ngày {found.day}/{found.month}/{found.year} đã qua.")
    return found


def _is_date(part: _Typed, today: date) -> bool:
    try:
        _date_from(part, today)
    except DateTimeInputError:
        return False
    return True


def _hour_in_period(hour: int, period: str) -> int | None:
    """The 24-hour clock hour for "7" with "tối" (19), or None when it is not in that period."""
    return next((h for h in (hour, hour + 12) if h in _PERIOD_HOURS[period]), None)


def _time_from(match: re.Match[str], shown: str, period: str | None) -> time:
    """The time a _TIME match stands for; `period` applies when the match has none."""
    typed_hour = int(match["hour"])
    minute = 30 if match["half"] else int(match["minute"] or match["colon_minute"] or 0)
    period = match["period"] or period
    hour = typed_hour if period is None else _hour_in_period(typed_hour, period)
    if hour is None or hour > 23 or minute > 59:
        raise DateTimeInputError(f"Giờ «{_quote(shown)}» không hợp lệ.")
    return time(hour, minute)


def parse_date(text: str, *, now: datetime, tz: ZoneInfo) -> date:
    """The date a member typed, today or later (see the module docstring for the readings)."""
    return _date_from(_read(text, "ngày"), _local_today(now, tz))


def parse_time(text: str) -> time:
    """The time of day a member typed: "19h30", "19:30", "7h30 sáng", "2 giờ chiều", "14g"."""
    typed = _read(text, "giờ")
    period, rest = typed.split_period()
    match = _TIME.fullmatch(rest.folded)
    if match is None:
        raise _unreadable("giờ", typed.shown)
    return _time_from(match, typed.shown, period)


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A date and a time typed together in either order ("19h30 thứ 6 tuần sau",
    "5/12 lúc 14h", "chiều mai 3 giờ"): aware in `tz`, and later than `now`."""
    today = _local_today(now, tz)
    typed = _read(text, "ngày giờ")
    match = _TIME.search(typed.folded)
    if match is None:
        if _is_date(typed, today):
            raise DateTimeInputError(
                f"Còn thiếu giờ. Đồng chí gõ thêm giờ, ví dụ «{_quote(typed.shown)} lúc 19h30»."
            )
        raise _unreadable("ngày giờ", typed.shown)
    period, date_part = typed.cut(*match.span()).split_period()
    if not date_part.folded:
        raise DateTimeInputError(
            f"Còn thiếu ngày. Đồng chí gõ thêm ngày, ví dụ «{_quote(typed.shown)} thứ 6 tuần sau»."
        )
    at = _time_from(match, typed.shown[match.start() : match.end()], period)
    result = datetime.combine(_date_from(date_part, today), at, tzinfo=tz)
    if result <= now:
        raise DateTimeInputError(f"{format_when(result, tz)} đã qua.")
    return result


def format_time(at: time) -> str:
    """Hours unpadded, as in "19:30" and "8:00"."""
    return f"{at.hour}:{at.minute:02d}"


def format_date(day: date) -> str:
    """Like "05/12/2026"."""
    return f"{day:%d/%m/%Y}"


def format_when(moment: datetime, tz: ZoneInfo) -> str:
    """Like "19:30 thứ Sáu, 04/12/2026", in `tz`."""
    local = moment.astimezone(tz)
    return f"{format_time(local.time())} {WEEKDAY_NAMES[local.weekday()]}, {format_date(local)}"
