"""Monthly meeting schedules: dates each month, start and end, skipped and moved meetings,
the JSON form, and the Vietnamese description."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.meetings.recurrence import (
    LAST_WEEK,
    Kind,
    Move,
    Recurrence,
    Skip,
    describe,
    next_occurrence,
    occurrences,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY, FRIDAY, SATURDAY, SUNDAY = 0, 4, 5, 6
EVENING = time(19, 30)
# Day 15 of every month at 19:30, from December 2026.
FIFTEENTH = Recurrence.monthly_day(15, EVENING, starts=date(2026, 12, 1))


def at(year: int, month: int, day: int, hour: int = 19, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def meetings(rule: Recurrence, start: datetime, end: datetime) -> list[datetime]:
    return occurrences(rule, start=start, end=end, tz=TZ)


def test_monthly_day_gives_the_day_every_month_at_the_time() -> None:
    found = meetings(FIFTEENTH, at(2026, 11, 1, 0, 0), at(2027, 4, 1, 0, 0))
    assert found == [at(2026, 12, 15), at(2027, 1, 15), at(2027, 2, 15), at(2027, 3, 15)]
    assert all(moment.tzinfo == TZ for moment in found)


@pytest.mark.parametrize(
    ("day", "year", "month", "expected"),
    [
        (31, 2027, 1, date(2027, 1, 31)),
        (31, 2027, 2, date(2027, 2, 28)),
        (31, 2028, 2, date(2028, 2, 29)),
        (31, 2027, 4, date(2027, 4, 30)),
        (31, 2027, 6, date(2027, 6, 30)),
        (31, 2027, 12, date(2027, 12, 31)),
        (30, 2027, 2, date(2027, 2, 28)),
        (30, 2028, 2, date(2028, 2, 29)),
        (30, 2027, 4, date(2027, 4, 30)),
        (29, 2027, 2, date(2027, 2, 28)),
        (29, 2028, 2, date(2028, 2, 29)),
        (29, 2100, 2, date(2100, 2, 28)),  # not a leap year
        (28, 2028, 2, date(2028, 2, 28)),
        (1, 2027, 2, date(2027, 2, 1)),
    ],
)
def test_monthly_day_falls_back_to_the_last_day(
    day: int, year: int, month: int, expected: date
) -> None:
    rule = Recurrence.monthly_day(day, EVENING, starts=date(2026, 1, 1))
    assert rule.date_in_month(year, month) == expected
    month_start = datetime(year, month, 1, tzinfo=TZ)
    assert meetings(rule, month_start, month_start + timedelta(days=31))[0] == datetime.combine(
        expected, EVENING, tzinfo=TZ
    )


def test_day_31_through_a_year() -> None:
    rule = Recurrence.monthly_day(31, EVENING, starts=date(2027, 12, 1))
    found = meetings(rule, at(2027, 12, 1, 0, 0), at(2028, 6, 1, 0, 0))
    assert [moment.date() for moment in found] == [
        date(2027, 12, 31),
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]


@pytest.mark.parametrize(
    ("weekday", "week", "year", "month", "expected"),
    [
        (FRIDAY, 1, 2026, 12, date(2026, 12, 4)),
        (FRIDAY, 2, 2026, 12, date(2026, 12, 11)),
        (FRIDAY, 4, 2026, 12, date(2026, 12, 25)),
        (FRIDAY, LAST_WEEK, 2026, 12, date(2026, 12, 25)),
        (FRIDAY, 1, 2027, 1, date(2027, 1, 1)),  # the month starts on a Friday
        (FRIDAY, 4, 2027, 1, date(2027, 1, 22)),
        (FRIDAY, LAST_WEEK, 2027, 1, date(2027, 1, 29)),  # a fifth Friday: the last one
        (MONDAY, LAST_WEEK, 2026, 11, date(2026, 11, 30)),
        (MONDAY, 1, 2027, 2, date(2027, 2, 1)),
        (MONDAY, 4, 2027, 2, date(2027, 2, 22)),
        (MONDAY, LAST_WEEK, 2027, 2, date(2027, 2, 22)),
        (SUNDAY, 1, 2026, 11, date(2026, 11, 1)),
        (SUNDAY, LAST_WEEK, 2026, 11, date(2026, 11, 29)),
        (SUNDAY, LAST_WEEK, 2027, 2, date(2027, 2, 28)),  # the month's last day
        (1, LAST_WEEK, 2028, 2, date(2028, 2, 29)),  # Tuesday, leap day
        (SATURDAY, 3, 2027, 5, date(2027, 5, 15)),
    ],
)
def test_monthly_weekday(weekday: int, week: int, year: int, month: int, expected: date) -> None:
    rule = Recurrence.monthly_weekday(weekday, week, time(8, 0), starts=date(2026, 1, 1))
    assert rule.date_in_month(year, month) == expected
    assert expected.weekday() == weekday


def test_last_monday_across_a_year_boundary() -> None:
    rule = Recurrence.monthly_weekday(MONDAY, LAST_WEEK, time(8, 0), starts=date(2026, 11, 1))
    found = meetings(rule, at(2026, 11, 1, 0, 0), at(2027, 3, 1, 0, 0))
    assert found == [
        at(2026, 11, 30, 8, 0),
        at(2026, 12, 28, 8, 0),
        at(2027, 1, 25, 8, 0),
        at(2027, 2, 22, 8, 0),
    ]


def test_occurrences_across_a_year_boundary() -> None:
    found = meetings(FIFTEENTH, at(2026, 12, 20, 0, 0), at(2027, 2, 1, 0, 0))
    assert found == [at(2027, 1, 15)]
    found = meetings(FIFTEENTH, at(2026, 12, 1, 0, 0), at(2027, 12, 31, 0, 0))
    assert len(found) == 13
    assert (found[0], found[-1]) == (at(2026, 12, 15), at(2027, 12, 15))


def test_window_is_half_open() -> None:
    assert meetings(FIFTEENTH, at(2026, 12, 15), at(2027, 1, 15)) == [at(2026, 12, 15)]
    assert meetings(FIFTEENTH, at(2026, 12, 15, 19, 31), at(2027, 1, 15)) == []
    assert meetings(FIFTEENTH, at(2027, 1, 1, 0, 0), at(2026, 12, 1, 0, 0)) == []


def test_window_in_another_zone_gives_times_in_the_rule_zone() -> None:
    utc = ZoneInfo("UTC")
    # 15/12 19:30 in Vietnam is 12:30 UTC.
    start = datetime(2026, 12, 15, 12, 30, tzinfo=utc)
    found = meetings(FIFTEENTH, start, start + timedelta(minutes=1))
    assert found == [at(2026, 12, 15)]
    assert found[0].tzinfo == TZ
    assert meetings(FIFTEENTH, start - timedelta(minutes=1), start) == []


def test_start_and_end_dates_are_inclusive() -> None:
    rule = Recurrence.monthly_day(15, EVENING, starts=date(2026, 12, 15), ends=date(2027, 2, 15))
    assert meetings(rule, at(2026, 1, 1, 0, 0), at(2028, 1, 1, 0, 0)) == [
        at(2026, 12, 15),
        at(2027, 1, 15),
        at(2027, 2, 15),
    ]
    later = Recurrence.monthly_day(15, EVENING, starts=date(2026, 12, 16), ends=date(2027, 2, 14))
    assert meetings(later, at(2026, 1, 1, 0, 0), at(2028, 1, 1, 0, 0)) == [at(2027, 1, 15)]


def test_wall_time_holds_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    rule = Recurrence.monthly_day(15, EVENING, starts=date(2027, 1, 1))
    start = datetime(2027, 3, 1, tzinfo=berlin)
    march, april = occurrences(rule, start=start, end=start + timedelta(days=50), tz=berlin)
    assert (march.time(), april.time()) == (EVENING, EVENING)
    assert (march.utcoffset(), april.utcoffset()) == (timedelta(hours=1), timedelta(hours=2))
    assert next_occurrence(rule, after=march, tz=berlin) == april


def test_skipped_meeting_is_left_out() -> None:
    rule = FIFTEENTH.skip(date(2026, 12, 15))
    assert meetings(rule, at(2026, 12, 1, 0, 0), at(2027, 2, 1, 0, 0)) == [at(2027, 1, 15)]


def test_moved_meeting_is_at_its_new_time() -> None:
    rule = FIFTEENTH.move(date(2026, 12, 15), at(2026, 12, 17, 18, 0))
    assert meetings(rule, at(2026, 12, 1, 0, 0), at(2027, 2, 1, 0, 0)) == [
        at(2026, 12, 17, 18, 0),
        at(2027, 1, 15),
    ]


def test_meeting_moved_into_another_month() -> None:
    rule = FIFTEENTH.move(date(2026, 12, 15), at(2027, 1, 20, 8, 0))
    assert meetings(rule, at(2026, 12, 1, 0, 0), at(2027, 1, 1, 0, 0)) == []
    # Sorted: the moved meeting comes after January's own.
    assert meetings(rule, at(2027, 1, 1, 0, 0), at(2027, 2, 1, 0, 0)) == [
        at(2027, 1, 15),
        at(2027, 1, 20, 8, 0),
    ]


def test_meeting_moved_before_the_window_month_and_out_of_the_end_date() -> None:
    rule = Recurrence.monthly_day(15, EVENING, starts=date(2026, 12, 1), ends=date(2026, 12, 31))
    moved = rule.move(date(2026, 12, 15), at(2027, 1, 5))
    assert meetings(moved, at(2027, 1, 1, 0, 0), at(2027, 2, 1, 0, 0)) == [at(2027, 1, 5)]


def test_moved_time_is_given_in_the_rule_zone() -> None:
    utc_time = datetime(2026, 12, 17, 1, 0, tzinfo=ZoneInfo("UTC"))
    rule = FIFTEENTH.move(date(2026, 12, 15), utc_time)
    (moved,) = meetings(rule, at(2026, 12, 1, 0, 0), at(2027, 1, 1, 0, 0))
    assert moved == at(2026, 12, 17, 8, 0)
    assert moved.tzinfo == TZ


def test_a_later_change_replaces_an_earlier_one() -> None:
    rule = FIFTEENTH.move(date(2026, 12, 15), at(2026, 12, 17)).skip(date(2026, 12, 15))
    assert rule.exceptions == (Skip(date(2026, 12, 15)),)
    assert rule == FIFTEENTH.skip(date(2026, 12, 15))


@pytest.mark.parametrize(
    ("rule", "after", "expected"),
    [
        (FIFTEENTH, at(2026, 11, 25, 10, 0), at(2026, 12, 15)),
        (FIFTEENTH, at(2026, 12, 15, 19, 29), at(2026, 12, 15)),
        (FIFTEENTH, at(2026, 12, 15), at(2027, 1, 15)),  # strictly after
        (FIFTEENTH, at(2026, 12, 31, 23, 59), at(2027, 1, 15)),
        (FIFTEENTH.skip(date(2026, 12, 15)), at(2026, 11, 25, 10, 0), at(2027, 1, 15)),
        (
            FIFTEENTH.skip(date(2026, 12, 15)).skip(date(2027, 1, 15)).skip(date(2027, 2, 15)),
            at(2026, 11, 25, 10, 0),
            at(2027, 3, 15),
        ),
        (
            FIFTEENTH.move(date(2026, 12, 15), at(2026, 12, 10)),
            at(2026, 11, 25, 10, 0),
            at(2026, 12, 10),
        ),
        (FIFTEENTH.move(date(2026, 12, 15), at(2026, 12, 10)), at(2026, 12, 10), at(2027, 1, 15)),
        (
            FIFTEENTH.move(date(2026, 12, 15), at(2027, 1, 20)),
            at(2026, 12, 16, 0, 0),
            at(2027, 1, 15),
        ),
        (
            FIFTEENTH.move(date(2026, 12, 15), at(2027, 1, 20)),
            at(2027, 1, 16, 0, 0),
            at(2027, 1, 20),
        ),
        (
            Recurrence.monthly_day(15, EVENING, starts=date(2026, 12, 1), ends=date(2026, 12, 31)),
            at(2026, 12, 15),
            None,
        ),
        (
            Recurrence.monthly_day(
                15, EVENING, starts=date(2026, 12, 1), ends=date(2026, 12, 31)
            ).move(date(2026, 12, 15), at(2027, 1, 5)),
            at(2026, 12, 1, 0, 0),
            at(2027, 1, 5),
        ),
        (
            Recurrence.monthly_day(
                15, EVENING, starts=date(2026, 12, 1), ends=date(2026, 12, 31)
            ).skip(date(2026, 12, 15)),
            at(2026, 1, 1, 0, 0),
            None,
        ),
        (
            Recurrence.monthly_day(15, EVENING, starts=date(2027, 6, 1)),
            at(2026, 1, 1),
            at(2027, 6, 15),
        ),
        (
            Recurrence.monthly_weekday(FRIDAY, 2, time(8, 0), starts=date(2026, 11, 1)),
            datetime(2026, 12, 11, 0, 59, tzinfo=ZoneInfo("UTC")),  # 7:59 in Vietnam
            at(2026, 12, 11, 8, 0),
        ),
    ],
)
def test_next_occurrence(rule: Recurrence, after: datetime, expected: datetime | None) -> None:
    found = next_occurrence(rule, after=after, tz=TZ)
    assert found == expected
    assert found is None or found.tzinfo == TZ


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Recurrence.monthly_weekday(FRIDAY, 5, EVENING, starts=date(2026, 12, 1)),
            "không phải tháng nào cũng có tuần thứ 5",
        ),
        (
            lambda: Recurrence.monthly_weekday(FRIDAY, 0, EVENING, starts=date(2026, 12, 1)),
            "tuần thứ 1 đến 4",
        ),
        (
            lambda: Recurrence.monthly_weekday(FRIDAY, -2, EVENING, starts=date(2026, 12, 1)),
            "tuần thứ 1 đến 4",
        ),
        (
            lambda: Recurrence.monthly_weekday(7, 1, EVENING, starts=date(2026, 12, 1)),
            "weekday must be",
        ),
        (
            lambda: Recurrence.monthly_weekday(-1, 1, EVENING, starts=date(2026, 12, 1)),
            "weekday must be",
        ),
        (
            lambda: Recurrence.monthly_day(0, EVENING, starts=date(2026, 12, 1)),
            "Ngày trong tháng phải từ 1 đến 31.",
        ),
        (
            lambda: Recurrence.monthly_day(32, EVENING, starts=date(2026, 12, 1)),
            "Ngày trong tháng phải từ 1 đến 31.",
        ),
        (
            lambda: Recurrence(Kind.MONTHLY_DAY, EVENING, date(2026, 12, 1), day=15, week=2),
            "takes a day",
        ),
        (
            lambda: Recurrence(
                Kind.MONTHLY_WEEKDAY, EVENING, date(2026, 12, 1), day=15, weekday=4, week=2
            ),
            "takes a weekday and week",
        ),
        (
            lambda: Recurrence.monthly_day(
                15, EVENING, starts=date(2026, 12, 1), ends=date(2026, 11, 30)
            ),
            "Ngày kết thúc 30/11/2026 ở trước ngày bắt đầu 01/12/2026.",
        ),
        (
            lambda: Recurrence.monthly_day(15, time(19, 30, 15), starts=date(2026, 12, 1)),
            "whole minutes",
        ),
        (
            lambda: Recurrence.monthly_day(15, time(19, 30, tzinfo=TZ), starts=date(2026, 12, 1)),
            "naive",
        ),
        (
            lambda: FIFTEENTH.skip(date(2026, 12, 16)),
            "Ngày 16/12/2026 không có buổi họp nào theo lịch này.",
        ),
        (
            lambda: FIFTEENTH.skip(date(2026, 11, 15)),  # before the start
            "Ngày 15/11/2026 không có buổi họp nào theo lịch này.",
        ),
        (
            lambda: Recurrence.monthly_day(
                15, EVENING, starts=date(2026, 12, 1), ends=date(2027, 1, 1)
            ).skip(date(2027, 1, 15)),  # after the end
            "Ngày 15/01/2027 không có buổi họp nào theo lịch này.",
        ),
        (
            lambda: Recurrence.monthly_day(31, EVENING, starts=date(2027, 1, 1)).skip(
                date(2027, 2, 27)
            ),
            "Ngày 27/02/2027 không có buổi họp nào theo lịch này.",
        ),
        (
            lambda: Recurrence(
                Kind.MONTHLY_DAY,
                EVENING,
                date(2026, 12, 1),
                day=15,
                exceptions=(Skip(date(2026, 12, 15)), Move(date(2026, 12, 15), at(2026, 12, 16))),
            ),
            "Buổi họp ngày 15/12/2026 có hai thay đổi.",
        ),
        (
            lambda: FIFTEENTH.move(date(2026, 12, 15), datetime(2026, 12, 17, 19, 30)),
            "timezone-aware",
        ),
    ],
)
def test_invalid_rules_are_refused(build: Callable[[], Recurrence], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_skipping_the_fallback_day_of_a_short_month() -> None:
    rule = Recurrence.monthly_day(31, EVENING, starts=date(2027, 1, 1)).skip(date(2027, 2, 28))
    assert meetings(rule, at(2027, 2, 1, 0, 0), at(2027, 4, 1, 0, 0)) == [at(2027, 3, 31)]


def test_occurrences_need_aware_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(FIFTEENTH, start=datetime(2026, 12, 1), end=at(2027, 1, 1), tz=TZ)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(FIFTEENTH, after=datetime(2026, 12, 1), tz=TZ)


ROUND_TRIP_RULES = [
    FIFTEENTH,
    Recurrence.monthly_day(31, time(7, 5), starts=date(2027, 1, 1), ends=date(2027, 12, 31)),
    Recurrence.monthly_weekday(FRIDAY, 2, time(8, 0), starts=date(2026, 11, 1)),
    Recurrence.monthly_weekday(MONDAY, LAST_WEEK, EVENING, starts=date(2026, 11, 1))
    .skip(date(2026, 12, 28))
    .move(date(2026, 11, 30), datetime(2026, 12, 2, 12, 30, tzinfo=ZoneInfo("UTC"))),
    FIFTEENTH.move(date(2027, 1, 15), at(2027, 2, 3, 8, 0)).skip(date(2026, 12, 15)),
]


@pytest.mark.parametrize("rule", ROUND_TRIP_RULES)
def test_round_trip_through_json(rule: Recurrence) -> None:
    stored = json.loads(json.dumps(rule.to_dict()))
    restored = Recurrence.from_dict(stored)
    assert restored == rule
    assert restored.to_dict() == rule.to_dict()
    assert hash(restored) == hash(rule)
    start, end = at(2026, 1, 1, 0, 0), at(2028, 1, 1, 0, 0)
    assert meetings(restored, start, end) == meetings(rule, start, end)


def test_dict_form() -> None:
    rule = Recurrence.monthly_weekday(FRIDAY, 2, time(8, 0), starts=date(2026, 12, 1))
    rule = rule.skip(date(2027, 1, 8)).move(date(2026, 12, 11), at(2026, 12, 12, 8, 0))
    assert rule.to_dict() == {
        "kind": "monthly_weekday",
        "weekday": 4,
        "week": 2,
        "time": "08:00",
        "starts": "2026-12-01",
        "ends": None,
        "exceptions": [
            {"move": "2026-12-11", "to": "2026-12-12T08:00:00+07:00"},
            {"skip": "2027-01-08"},
        ],
    }
    assert FIFTEENTH.to_dict() == {
        "kind": "monthly_day",
        "day": 15,
        "time": "19:30",
        "starts": "2026-12-01",
        "ends": None,
        "exceptions": [],
    }


def test_exception_order_does_not_matter() -> None:
    one = FIFTEENTH.skip(date(2027, 1, 15)).skip(date(2026, 12, 15))
    other = FIFTEENTH.skip(date(2026, 12, 15)).skip(date(2027, 1, 15))
    assert one == other
    assert one.to_dict() == other.to_dict()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "monthly_day", "day": 15, "time": "19:30", "starts": "2026-12-01"},
        {"kind": "weekly", "day": 15, "time": "19:30", "starts": "2026-12-01", "ends": None,
         "exceptions": []},
        {"kind": "monthly_day", "day": 15, "time": 1930, "starts": "2026-12-01", "ends": None,
         "exceptions": []},
        {"kind": "monthly_day", "day": 15, "time": "19:30", "starts": "2026-12-01", "ends": None,
         "exceptions": [{"move": "2026-12-15"}]},
        {"kind": "monthly_weekday", "weekday": 4, "week": 5, "time": "19:30",
         "starts": "2026-12-01", "ends": None, "exceptions": []},
        {"kind": "monthly_day", "day": 15, "time": "19:30:10", "starts": "2026-12-01",
         "ends": None, "exceptions": []},
    ],
)  # fmt: skip
def test_from_dict_refuses_what_is_not_a_rule(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Recurrence.from_dict(data)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (FIFTEENTH, "Ngày 15 hằng tháng, lúc 19:30"),
        (
            Recurrence.monthly_day(1, time(7, 0), starts=date(2026, 12, 1)),
            "Ngày 1 hằng tháng, lúc 7:00",
        ),
        (
            Recurrence.monthly_day(31, EVENING, starts=date(2026, 12, 1)),
            "Ngày 31 hằng tháng (tháng không có ngày 31 thì họp ngày cuối tháng), lúc 19:30",
        ),
        (
            Recurrence.monthly_day(29, EVENING, starts=date(2026, 12, 1)),
            "Ngày 29 hằng tháng (tháng không có ngày 29 thì họp ngày cuối tháng), lúc 19:30",
        ),
        (
            Recurrence.monthly_weekday(FRIDAY, 2, time(8, 0), starts=date(2026, 12, 1)),
            "Thứ Sáu tuần thứ 2 hằng tháng, lúc 8:00",
        ),
        (
            Recurrence.monthly_weekday(MONDAY, LAST_WEEK, time(14, 0), starts=date(2026, 12, 1)),
            "Thứ Hai cuối cùng hằng tháng, lúc 14:00",
        ),
        (
            Recurrence.monthly_weekday(SUNDAY, 1, time(8, 30), starts=date(2026, 12, 1)),
            "Chủ nhật tuần thứ 1 hằng tháng, lúc 8:30",
        ),
        (
            Recurrence.monthly_day(15, EVENING, starts=date(2026, 12, 1), ends=date(2027, 6, 30)),
            "Ngày 15 hằng tháng, lúc 19:30, đến hết ngày 30/06/2027",
        ),
    ],
)
def test_describe(rule: Recurrence, text: str) -> None:
    assert describe(rule) == text
