"""Messages the bot starts on its own, as domain values: what a service decided to tell
members, not yet worded. The service hands one to the outbox in the transaction that
decides it; the conversations word it (handlers/notices.py), the same way whichever surface
(chat, the command line, a scheduled job) made the decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from bot.messages import Media, Reply
from bot.models import Meeting, Quiz

if TYPE_CHECKING:
    from bot.services.outbox import Status
    from bot.services.quizzes.report import QuizReport


@dataclass(frozen=True)
class MeetingReminder:
    """A coming meeting, with the answer buttons «Tham dự» / «Vắng»."""

    meeting: Meeting
    at: datetime


@dataclass(frozen=True)
class MeetingCancelled:
    """To members already reminded of the occurrence at `at`."""

    meeting: Meeting
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class MeetingChanged:
    """A new time or place, to members already reminded of the occurrence at `at`."""

    meeting: Meeting
    at: datetime


@dataclass(frozen=True)
class RegularMeetingMissing:
    """To a unit's secretaries: no regular meeting is set up for that month yet."""

    unit: str
    year: int
    month: int


@dataclass(frozen=True)
class AgendaMissing:
    """To a unit's secretaries: a meeting in the next days has no agenda."""

    meeting: Meeting
    unit: str
    at: datetime


@dataclass(frozen=True)
class QuizInvitation:
    quiz: Quiz


@dataclass(frozen=True)
class QuizClosingSoon:
    """To members who have not finished the quiz, a day before it closes."""

    quiz: Quiz


@dataclass(frozen=True)
class QuizResults:
    """The results at closing, to the member the quiz reports to."""

    report: QuizReport


@dataclass(frozen=True)
class DailyQuestionPrompt:
    """The day's question to a member who opted in, its choices in the order shown."""

    delivery_id: int
    question: str
    choices: tuple[str, ...]
    topic: str


@dataclass(frozen=True)
class ProbationReminder:
    """A month before a probationary year ends: to the member (`to` "member"), a sponsor
    ("sponsor") or the unit's secretaries ("secretary")."""

    to: str
    member: str
    unit: str
    ends: date
    consider_by: date


@dataclass(frozen=True)
class BroadcastNotice:
    body: str
    signature: str
    media: Media | None = None


@dataclass(frozen=True)
class BroadcastProgress:
    """To the sender, edited as the notice goes out."""

    broadcast_id: int
    counts: Mapping[Status, int]


@dataclass(frozen=True)
class BroadcastReport:
    """To the sender once nothing is left to send."""

    broadcast_id: int
    counts: Mapping[Status, int]


Notice = (
    MeetingReminder
    | MeetingCancelled
    | MeetingChanged
    | RegularMeetingMissing
    | AgendaMissing
    | QuizInvitation
    | QuizClosingSoon
    | QuizResults
    | DailyQuestionPrompt
    | ProbationReminder
    | BroadcastNotice
    | BroadcastProgress
    | BroadcastReport
)


class Renderer(Protocol):
    """Words a notice for members: handlers/notices.py."""

    def __call__(self, notice: Notice, timezone: ZoneInfo) -> Reply: ...


def unrendered(notice: Notice, timezone: ZoneInfo) -> Reply:
    """The renderer of a process that was given none: it sends no proactive message."""
    raise LookupError(
        f"no renderer for {type(notice).__name__}: build Shared(..., "
        "render=handlers.notices.render_notice)"
    )
