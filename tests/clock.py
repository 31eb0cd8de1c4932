"""A clock tests move by hand; services receive it where they would get the real one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# A Wednesday morning in Vietnam.
DEFAULT_START = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


class Clock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
