"""Chi bộ meetings: reading the dates and times members type, and monthly schedules."""

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
from bot.services.meetings.when import (
    DateTimeInputError,
    format_date,
    format_time,
    format_when,
    parse_date,
    parse_time,
    parse_when,
)

__all__ = [
    "LAST_WEEK",
    "DateTimeInputError",
    "Kind",
    "Move",
    "Recurrence",
    "Skip",
    "describe",
    "format_date",
    "format_time",
    "format_when",
    "next_occurrence",
    "occurrences",
    "parse_date",
    "parse_time",
    "parse_when",
]
