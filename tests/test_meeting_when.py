"""Dates and times as secretaries type them, read against a fixed now: Wednesday 25/11/2026,
10:00 in Hanoi/Ho Chi Minh City time."""

from __future__ import annotations

import time as clock
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.meetings.when import (
    DateTimeInputError,
    format_date,
    format_time,
    format_when,
    parse_date,
    parse_time,
    parse_when,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)  # a Wednesday
UNREADABLE_DATE_HINT = "Đồng chí gõ theo dạng 5/12 hoặc 05/12/2026, hoặc «thứ 6 tuần sau»."
LONG_INPUTS = ["5/12 " * 2000, "a" * 10_000, "1" * 10_000, "thứ 6 tuần sau " * 700]


def on(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # Day and month, with or without a year, in every separator people use.
        ("5/12", date(2026, 12, 5)),
        ("05/12", date(2026, 12, 5)),
        ("05/12/2026", date(2026, 12, 5)),
        ("5-12-2026", date(2026, 12, 5)),
        ("5.12", date(2026, 12, 5)),
        ("5.12.2026", date(2026, 12, 5)),
        ("5 / 12", date(2026, 12, 5)),
        ("ngày 5/12", date(2026, 12, 5)),
        ("Ngày 05/12/2026", date(2026, 12, 5)),
        ("ngay 5/12", date(2026, 12, 5)),
        ("vào ngày 5/12", date(2026, 12, 5)),
        ("5/12/26", date(2026, 12, 5)),
        ("5/12.", date(2026, 12, 5)),
        ("ngày 5 tháng 12", date(2026, 12, 5)),
        ("5 tháng 12 năm 2026", date(2026, 12, 5)),
        ("  5/12  ", date(2026, 12, 5)),
        # Without a year: the next one not in the past; today counts.
        ("25/11", date(2026, 11, 25)),
        ("26/11", date(2026, 11, 26)),
        ("24/11", date(2027, 11, 24)),
        ("5/1", date(2027, 1, 5)),
        ("1/11", date(2027, 11, 1)),
        ("29/2/2028", date(2028, 2, 29)),
        ("31/12/2099", date(2099, 12, 31)),
        # Relative days.
        ("hôm nay", date(2026, 11, 25)),
        ("Hôm nay", date(2026, 11, 25)),
        ("hom nay", date(2026, 11, 25)),
        ("mai", date(2026, 11, 26)),
        ("ngày mai", date(2026, 11, 26)),
        ("NGÀY MAI", date(2026, 11, 26)),
        ("ngay mai", date(2026, 11, 26)),
        ("ngày kia", date(2026, 11, 27)),
        ("mốt", date(2026, 11, 27)),
        ("ngày mốt", date(2026, 11, 27)),
        ("mot", date(2026, 11, 27)),
        # A bare weekday: the next one from tomorrow on.
        ("thứ 2", date(2026, 11, 30)),
        ("thứ hai", date(2026, 11, 30)),
        ("t2", date(2026, 11, 30)),
        ("thứ 3", date(2026, 12, 1)),
        ("thứ ba", date(2026, 12, 1)),
        ("thứ 4", date(2026, 12, 2)),  # typed on a Wednesday: next week's
        ("thứ tư", date(2026, 12, 2)),
        ("thứ 5", date(2026, 11, 26)),
        ("thứ năm", date(2026, 11, 26)),
        ("thứ 6", date(2026, 11, 27)),
        ("thứ sáu", date(2026, 11, 27)),
        ("thu 6", date(2026, 11, 27)),
        ("thứ6", date(2026, 11, 27)),
        ("t6", date(2026, 11, 27)),
        ("T6", date(2026, 11, 27)),
        ("thứ 6 này", date(2026, 11, 27)),
        ("thứ 6 tới", date(2026, 11, 27)),
        ("thứ 7", date(2026, 11, 28)),
        ("thứ bảy", date(2026, 11, 28)),
        ("thứ bẩy", date(2026, 11, 28)),
        ("t7", date(2026, 11, 28)),
        ("chủ nhật", date(2026, 11, 29)),
        ("Chủ Nhật", date(2026, 11, 29)),
        ("chu nhat", date(2026, 11, 29)),
        ("cn", date(2026, 11, 29)),
        ("CN", date(2026, 11, 29)),
        # This week (Monday to Sunday) and next week.
        ("thứ 4 tuần này", date(2026, 11, 25)),
        ("thứ sáu tuần này", date(2026, 11, 27)),
        ("chủ nhật tuần này", date(2026, 11, 29)),
        ("thứ 2 tuần sau", date(2026, 11, 30)),
        ("thứ 4 tuần sau", date(2026, 12, 2)),
        ("thứ 6 tuần sau", date(2026, 12, 4)),
        ("thu 6 tuan sau", date(2026, 12, 4)),
        ("THỨ SÁU TUẦN SAU", date(2026, 12, 4)),
        ("t6 tuần sau", date(2026, 12, 4)),
        ("thứ 6 tuần tới", date(2026, 12, 4)),
        ("chủ nhật tuần sau", date(2026, 12, 6)),
        ("cn tuần sau", date(2026, 12, 6)),
        # Decomposed (NFD) input, as some keyboards send it.
        (unicodedata.normalize("NFD", "thứ sáu tuần sau"), date(2026, 12, 4)),
    ],
)
def test_parse_date(typed: str, expected: date) -> None:
    assert parse_date(typed, now=NOW, tz=TZ) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/2", "Ngày 31/2 không có thật."),
        ("30/2", "Ngày 30/2 không có thật."),
        ("30/02/2027", "Ngày 30/2 không có thật."),
        ("31/4", "Ngày 31/4 không có thật."),
        ("29/2/2027", "Ngày 29/2/2027 không có thật."),
        ("29/2", "Ngày 29/2/2027 không có thật."),  # the next February is in 2027
        ("32/1", "Ngày 32/1 không có thật."),
        ("13/13", "Ngày 13/13 không có thật."),
        ("0/5", "Ngày 0/5 không có thật."),
        ("5/0", "Ngày 5/0 không có thật."),
        ("1/11/2026", "Ngày 1/11/2026 đã qua."),
        ("24/11/2026", "Ngày 24/11/2026 đã qua."),
        ("5/12/25", "Ngày 5/12/2025 đã qua."),
        ("thứ 2 tuần này", "Ngày 23/11/2026 đã qua."),
        ("thứ 3 tuần này", "Ngày 24/11/2026 đã qua."),
        ("", "Đồng chí chưa gõ ngày."),
        ("   ", "Đồng chí chưa gõ ngày."),
        ("abc", f"Không hiểu ngày «abc». {UNREADABLE_DATE_HINT}"),
        ("thứ 9", f"Không hiểu ngày «thứ 9». {UNREADABLE_DATE_HINT}"),
        ("thứ 1", f"Không hiểu ngày «thứ 1». {UNREADABLE_DATE_HINT}"),
        ("tuần sau", f"Không hiểu ngày «tuần sau». {UNREADABLE_DATE_HINT}"),
        ("5", f"Không hiểu ngày «5». {UNREADABLE_DATE_HINT}"),
        ("5/12/202", f"Không hiểu ngày «5/12/202». {UNREADABLE_DATE_HINT}"),
        ("5/12-2026", f"Không hiểu ngày «5/12-2026». {UNREADABLE_DATE_HINT}"),
        ("ngày", f"Không hiểu ngày «ngày». {UNREADABLE_DATE_HINT}"),
        ("😀", f"Không hiểu ngày «😀». {UNREADABLE_DATE_HINT}"),
        ("📅 5/12", f"Không hiểu ngày «📅 5/12». {UNREADABLE_DATE_HINT}"),
        ("x" * 101, f"Không hiểu ngày «{'x' * 30}…». {UNREADABLE_DATE_HINT}"),
    ],
)
def test_parse_date_errors(typed: str, message: str) -> None:
    with pytest.raises(DateTimeInputError) as caught:
        parse_date(typed, now=NOW, tz=TZ)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("now", "typed", "expected"),
    [
        (on(2026, 12, 30), "5/1", date(2027, 1, 5)),
        (on(2026, 12, 30), "30/12", date(2026, 12, 30)),
        (on(2026, 12, 30), "29/12", date(2027, 12, 29)),
        (on(2026, 12, 31), "mai", date(2027, 1, 1)),
        (on(2026, 12, 31), "mốt", date(2027, 1, 2)),
        (on(2026, 12, 30), "thứ 6 tuần sau", date(2027, 1, 8)),  # 30/12/2026 is a Wednesday
        (on(2026, 12, 30), "chủ nhật", date(2027, 1, 3)),
        (on(2028, 1, 10), "29/2", date(2028, 2, 29)),  # a leap year ahead
        (on(2028, 2, 29), "hôm nay", date(2028, 2, 29)),
        (on(2028, 3, 1), "28/2", date(2029, 2, 28)),
    ],
)
def test_parse_date_year_rollover(now: datetime, typed: str, expected: date) -> None:
    assert parse_date(typed, now=now, tz=TZ) == expected


def test_parse_date_takes_today_in_the_given_zone() -> None:
    # 20:00 UTC on the 25th is already 03:00 on the 26th in Vietnam.
    now = datetime(2026, 11, 25, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert parse_date("hôm nay", now=now, tz=TZ) == date(2026, 11, 26)
    assert parse_date("thứ 5", now=now, tz=TZ) == date(2026, 12, 3)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware") as caught:
        parse_date("5/12", now=datetime(2026, 11, 25, 10), tz=TZ)
    assert not isinstance(caught.value, DateTimeInputError)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("19h30", time(19, 30)),
        ("19H30", time(19, 30)),
        ("19h", time(19, 0)),
        ("7h rưỡi", time(7, 30)),
        ("19h05", time(19, 5)),
        ("19h5", time(19, 5)),
        ("19h30p", time(19, 30)),
        ("19:30", time(19, 30)),
        ("7:30", time(7, 30)),
        ("07:30", time(7, 30)),
        ("23:59", time(23, 59)),
        ("0h", time(0, 0)),
        ("12h", time(12, 0)),
        ("14g", time(14, 0)),
        ("14g30", time(14, 30)),
        ("8 giờ", time(8, 0)),
        ("8 giờ 30", time(8, 30)),
        ("8 giờ 30 phút", time(8, 30)),
        ("8 gio 30 phut", time(8, 30)),
        ("8 giờ rưỡi", time(8, 30)),
        ("lúc 19h30", time(19, 30)),
        ("19h30.", time(19, 30)),
        # Parts of the day.
        ("7:30 sáng", time(7, 30)),
        ("7h30 sáng", time(7, 30)),
        ("7h30 sang", time(7, 30)),
        ("11 giờ trưa", time(11, 0)),
        ("12 giờ trưa", time(12, 0)),
        ("1 giờ trưa", time(13, 0)),
        ("12 giờ chiều", time(12, 0)),
        ("2 giờ chiều", time(14, 0)),
        ("2 gio chieu", time(14, 0)),
        ("14h chiều", time(14, 0)),
        ("7 giờ chiều", time(19, 0)),
        ("5 giờ tối", time(17, 0)),
        ("7 giờ tối", time(19, 0)),
        ("7 gio toi", time(19, 0)),
        ("7 giờ rưỡi tối", time(19, 30)),
        ("19h tối", time(19, 0)),
        ("11 giờ tối", time(23, 0)),
        ("tối 7 giờ", time(19, 0)),
        ("sáng 7h30", time(7, 30)),
    ],
)
def test_parse_time(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


UNREADABLE_TIME_HINT = "Đồng chí gõ theo dạng 19h30 hoặc 19:30, hoặc «7 giờ tối»."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("25h", "Giờ «25h» không hợp lệ."),
        ("24h", "Giờ «24h» không hợp lệ."),
        ("24:00", "Giờ «24:00» không hợp lệ."),
        ("19h60", "Giờ «19h60» không hợp lệ."),
        ("19:75", "Giờ «19:75» không hợp lệ."),
        ("14h sáng", "Giờ «14h sáng» không hợp lệ."),
        ("12 giờ sáng", "Giờ «12 giờ sáng» không hợp lệ."),
        ("9 giờ trưa", "Giờ «9 giờ trưa» không hợp lệ."),
        ("12 giờ tối", "Giờ «12 giờ tối» không hợp lệ."),
        ("", "Đồng chí chưa gõ giờ."),
        ("abc", f"Không hiểu giờ «abc». {UNREADABLE_TIME_HINT}"),
        ("19", f"Không hiểu giờ «19». {UNREADABLE_TIME_HINT}"),
        ("7 sáng", f"Không hiểu giờ «7 sáng». {UNREADABLE_TIME_HINT}"),
        ("19.30", f"Không hiểu giờ «19.30». {UNREADABLE_TIME_HINT}"),
        ("19:3", f"Không hiểu giờ «19:3». {UNREADABLE_TIME_HINT}"),
        ("123h", f"Không hiểu giờ «123h». {UNREADABLE_TIME_HINT}"),
        ("⏰", f"Không hiểu giờ «⏰». {UNREADABLE_TIME_HINT}"),
        ("tối", f"Không hiểu giờ «tối». {UNREADABLE_TIME_HINT}"),
        ("tối 12h", "Giờ «tối 12h» không hợp lệ."),
    ],
)
def test_parse_time_errors(typed: str, message: str) -> None:
    with pytest.raises(DateTimeInputError) as caught:
        parse_time(typed)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("19h30 thứ 6 tuần sau", on(2026, 12, 4, 19, 30)),
        ("thứ 6 tuần sau 19h30", on(2026, 12, 4, 19, 30)),
        ("thứ 6 tuần sau lúc 19h30", on(2026, 12, 4, 19, 30)),
        ("19h30, thứ 6 tuần sau", on(2026, 12, 4, 19, 30)),
        ("5/12 lúc 14h", on(2026, 12, 5, 14, 0)),
        ("14h 5/12", on(2026, 12, 5, 14, 0)),
        ("19h 5 tháng 12", on(2026, 12, 5, 19, 0)),
        ("8 giờ 5 tháng 12", on(2026, 12, 5, 8, 0)),
        ("05/12/2026 7:30 sáng", on(2026, 12, 5, 7, 30)),
        ("7:30 sáng 05/12/2026", on(2026, 12, 5, 7, 30)),
        ("vào lúc 8 giờ ngày 5 tháng 12", on(2026, 12, 5, 8, 0)),
        ("8g30 5.12", on(2026, 12, 5, 8, 30)),
        ("hôm nay 19h", on(2026, 11, 25, 19, 0)),
        ("hôm nay 10h01", on(2026, 11, 25, 10, 1)),
        ("tối nay 7 giờ", on(2026, 11, 25, 19, 0)),
        ("8h sáng mai", on(2026, 11, 26, 8, 0)),
        ("sáng mai 8h", on(2026, 11, 26, 8, 0)),
        ("chiều mai 3 giờ", on(2026, 11, 26, 15, 0)),
        ("3 giờ chiều mai", on(2026, 11, 26, 15, 0)),
        ("tối thứ 6 tuần sau lúc 7h30", on(2026, 12, 4, 19, 30)),
        ("7 giờ tối thứ 6", on(2026, 11, 27, 19, 0)),
        ("thứ 6 7 giờ tối", on(2026, 11, 27, 19, 0)),
        ("t7 8h", on(2026, 11, 28, 8, 0)),
        ("19h thu 4", on(2026, 12, 2, 19, 0)),
        ("8h thứ 4 tuần này", None),  # today, but 8:00 has passed
        ("19h thứ 4 tuần này", on(2026, 11, 25, 19, 0)),
        ("cn 8 giờ sáng", on(2026, 11, 29, 8, 0)),
        ("8 giờ 30/11", on(2026, 11, 30, 8, 0)),  # "30" is the day, not the minutes
    ],
)
def test_parse_when(typed: str, expected: datetime | None) -> None:
    if expected is None:
        with pytest.raises(DateTimeInputError, match="đã qua"):
            parse_when(typed, now=NOW, tz=TZ)
        return
    result = parse_when(typed, now=NOW, tz=TZ)
    assert result == expected
    assert result.tzinfo == TZ


UNREADABLE_WHEN_HINT = (
    "Đồng chí gõ cả ngày và giờ, ví dụ «19h30 thứ 6 tuần sau» hoặc «5/12 lúc 14h»."
)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("hôm nay 8h", "8:00 thứ Tư, 25/11/2026 đã qua."),
        ("hôm nay 10h", "10:00 thứ Tư, 25/11/2026 đã qua."),  # exactly now is not later
        ("1/11/2026 19h", "Ngày 1/11/2026 đã qua."),
        ("31/2 19h", "Ngày 31/2 không có thật."),
        ("25h 5/12", "Giờ «25h» không hợp lệ."),
        ("5/12 14h sáng", "Giờ «14h sáng» không hợp lệ."),
        ("19h thứ 9", f"Không hiểu ngày «thứ 9». {UNREADABLE_DATE_HINT}"),
        ("5/12", "Còn thiếu giờ. Đồng chí gõ thêm giờ, ví dụ «5/12 lúc 19h30»."),
        ("thứ 6", "Còn thiếu giờ. Đồng chí gõ thêm giờ, ví dụ «thứ 6 lúc 19h30»."),
        ("19h", "Còn thiếu ngày. Đồng chí gõ thêm ngày, ví dụ «19h thứ 6 tuần sau»."),
        ("lúc 19h", "Còn thiếu ngày. Đồng chí gõ thêm ngày, ví dụ «19h thứ 6 tuần sau»."),
        ("tối 7h", "Còn thiếu ngày. Đồng chí gõ thêm ngày, ví dụ «tối 7h thứ 6 tuần sau»."),
        ("", "Đồng chí chưa gõ ngày giờ."),
        ("abc", f"Không hiểu ngày giờ «abc». {UNREADABLE_WHEN_HINT}"),
        ("31/2", f"Không hiểu ngày giờ «31/2». {UNREADABLE_WHEN_HINT}"),
        ("🎉🎉", f"Không hiểu ngày giờ «🎉🎉». {UNREADABLE_WHEN_HINT}"),
    ],
)
def test_parse_when_errors(typed: str, message: str) -> None:
    with pytest.raises(DateTimeInputError) as caught:
        parse_when(typed, now=NOW, tz=TZ)
    assert str(caught.value) == message


def test_parse_when_builds_wall_time_in_a_zone_with_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2027, 3, 24, 12, 0, tzinfo=berlin)  # a Wednesday
    result = parse_when("19h30 thứ 2 tuần sau", now=now, tz=berlin)  # after the March change
    assert (result.date(), result.time()) == (date(2027, 3, 29), time(19, 30))
    assert result.utcoffset() == timedelta(hours=2)  # summer time, not the +1 of `now`


@pytest.mark.parametrize("typed", LONG_INPUTS)
@pytest.mark.parametrize(
    "parse",
    [
        lambda text: parse_date(text, now=NOW, tz=TZ),
        parse_time,
        lambda text: parse_when(text, now=NOW, tz=TZ),
    ],
    ids=["date", "time", "when"],
)
def test_very_long_input_is_refused_quickly(typed: str, parse: Callable[[str], object]) -> None:
    started = clock.perf_counter()
    with pytest.raises(DateTimeInputError, match="Không hiểu"):
        parse(typed)
    assert clock.perf_counter() - started < 0.1


def test_formatting() -> None:
    assert format_time(time(8, 0)) == "8:00"
    assert format_time(time(19, 30)) == "19:30"
    assert format_date(date(2026, 12, 5)) == "05/12/2026"
    assert format_when(on(2026, 12, 4, 19, 30), TZ) == "19:30 thứ Sáu, 04/12/2026"
    assert format_when(on(2026, 12, 6, 8, 0), TZ) == "8:00 Chủ nhật, 06/12/2026"
    # Shown in the given zone whatever zone the datetime carries.
    utc = datetime(2026, 11, 30, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert format_when(utc, TZ) == "0:00 thứ Ba, 01/12/2026"
