"""Domain services. Every surface (the conversations, the scheduled jobs, the command line)
gets them one way: `Services.for_session(session, shared)`, one set per transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.keys import Keys, Purpose
from bot.models import utcnow
from bot.services.accounts import AccountService
from bot.services.adoption import AdoptionService
from bot.services.audit import AuditService
from bot.services.broadcasts import BroadcastService
from bot.services.codes import CodeService
from bot.services.conversations import ConversationService
from bot.services.directory import DirectoryService
from bot.services.files import IncomingFiles
from bot.services.handbook import HandbookIndex
from bot.services.intake import IntakeService
from bot.services.linking import LinkingService
from bot.services.meetings.attendance import AttendanceService
from bot.services.meetings.calendar import MeetingService
from bot.services.meetings.nudges import NudgeService
from bot.services.meetings.reminders import ReminderService
from bot.services.notices import Renderer, unrendered
from bot.services.outbox import OutboxService
from bot.services.overview import OverviewService
from bot.services.permissions import PermissionService
from bot.services.personal_data import PersonalDataService
from bot.services.probation import ProbationService
from bot.services.questions import QuestionService
from bot.services.quizzes.attempts import QuizAttempts
from bot.services.quizzes.catalogue import QuizCatalogue
from bot.services.quizzes.daily import DailyQuestions
from bot.services.quizzes.lifecycle import QuizSchedule
from bot.services.quizzes.report import QuizReports
from bot.services.rankings import RankingService
from bot.services.web_logins import WebLoginService
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.metrics import Metrics


@dataclass(frozen=True)
class Shared:
    """What every transaction's services share in a process: built once at start."""

    settings: Settings
    # Only the conversations search the handbook; a job or a command needs none.
    handbook: HandbookIndex | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
    # Wakes the outbox dispatcher after a transaction that queued messages commits.
    notify_outbox: Callable[[], None] = field(default=lambda: None)
    # Wakes the quiz scheduler after a transaction that scheduled a quiz commits, so a quiz
    # opened "now" sends its invitations now.
    notify_schedule: Callable[[], None] = field(default=lambda: None)
    # Messengers that can hand over files members send register a fetcher here at start.
    files: IncomingFiles = field(default_factory=IncomingFiles)
    # Words the notices services decide to send (handlers/notices.py: render_notice).
    render: Renderer = field(default=unrendered)
    # What the operator watches (bot/metrics.py); None in jobs, commands and most tests.
    metrics: Metrics | None = None

    @cached_property
    def keys(self) -> Keys:
        return Keys.for_settings(self.settings)

    @cached_property
    def seal_key(self) -> bytes:
        """Seals button data that names an account's rows (bot/button_data.py); the same on
        every worker, so buttons outlive a restart."""
        return self.keys.derive(Purpose.BUTTONS)


class Services:
    """The services of one session, each made when first used and then kept, so the
    services of one transaction share one outbox, one audit log and one permission cache."""

    def __init__(self, session: AsyncSession, shared: Shared) -> None:
        self._session = session
        self._shared = shared

    @classmethod
    def for_session(cls, session: AsyncSession, shared: Shared) -> Services:
        return cls(session, shared)

    @property
    def settings(self) -> Settings:
        return self._shared.settings

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._shared.clock

    @property
    def keys(self) -> Keys:
        return self._shared.keys

    @property
    def files(self) -> IncomingFiles:
        return self._shared.files

    @property
    def _tz(self) -> ZoneInfo:
        return self._shared.settings.timezone

    @property
    def handbook(self) -> HandbookIndex:
        if self._shared.handbook is None:
            raise LookupError("this process loaded no handbook: Shared(settings, load_index())")
        return self._shared.handbook

    @cached_property
    def audit(self) -> AuditService:
        return AuditService(self._session)

    @cached_property
    def outbox(self) -> OutboxService:
        return OutboxService(self._session, self._shared.render, self._tz)

    @cached_property
    def intake(self) -> IntakeService:
        return IntakeService(self._session)

    @cached_property
    def accounts(self) -> AccountService:
        return AccountService(self._session, self.audit)

    @cached_property
    def conversations(self) -> ConversationService:
        return ConversationService(self._session)

    @cached_property
    def linking(self) -> LinkingService:
        return LinkingService(
            self._session,
            self.audit,
            self.clock,
            self.outbox,
            self._shared.keys,
            self.codes,
            self.personal_data,
        )

    @cached_property
    def personal_data(self) -> PersonalDataService:
        return PersonalDataService(self._session, self._shared.keys, self.audit)

    @cached_property
    def permissions(self) -> PermissionService:
        return PermissionService(self._session)

    @cached_property
    def questions(self) -> QuestionService:
        return QuestionService(self._session, self.clock, metrics=self._shared.metrics)

    @cached_property
    def codes(self) -> CodeService:
        return CodeService(self._session, self._shared.keys)

    @cached_property
    def adoption(self) -> AdoptionService:
        return AdoptionService(self._session)

    @cached_property
    def broadcasts(self) -> BroadcastService:
        return BroadcastService(self._session, self.outbox, self.audit, self.clock)

    @cached_property
    def meetings(self) -> MeetingService:
        return MeetingService(self._session, self.outbox, self.audit, self.clock, self._tz)

    @property
    def reminders(self) -> ReminderService:
        return self.meetings.reminders

    @cached_property
    def attendance(self) -> AttendanceService:
        return AttendanceService(self._session, self.meetings, self.audit, self.clock, self._tz)

    @cached_property
    def nudges(self) -> NudgeService:
        """The nudges due at the clock's time."""
        clock = self.clock
        return NudgeService(
            self._session, self.outbox, self.audit, self.meetings, clock(), self._tz
        )

    @cached_property
    def quiz_catalogue(self) -> QuizCatalogue:
        return QuizCatalogue(self._session, self.audit)

    @cached_property
    def quiz_attempts(self) -> QuizAttempts:
        return QuizAttempts(self._session, self.clock)

    @cached_property
    def quizzes(self) -> QuizSchedule:
        """Scheduling quizzes and running their windows."""
        return QuizSchedule(
            self._session,
            self.outbox,
            self.audit,
            self.clock,
            self.quiz_catalogue,
            self.quiz_attempts,
        )

    @cached_property
    def daily(self) -> DailyQuestions:
        """The question a day."""
        return DailyQuestions(self._session, self.outbox, self.quiz_catalogue, self.clock, self._tz)

    @cached_property
    def probation(self) -> ProbationService:
        """The probationary year's timeline and reminders."""
        return ProbationService(self._session, self.outbox, self.clock, self._tz)

    @cached_property
    def rankings(self) -> RankingService:
        return RankingService(self._session)

    @cached_property
    def quiz_reports(self) -> QuizReports:
        return QuizReports(self._session)

    @cached_property
    def overview(self) -> OverviewService:
        """Tổng quan's figures: adoption, quizzes and attendance per unit."""
        return OverviewService(
            self._session,
            self.adoption,
            self.quiz_reports,
            self.attendance,
            self.clock,
            self._tz,
        )

    @cached_property
    def web_logins(self) -> WebLoginService:
        return WebLoginService(self._session, self.audit, self.clock, self._shared.keys)

    @cached_property
    def directory(self) -> DirectoryService:
        return DirectoryService(self._session)
