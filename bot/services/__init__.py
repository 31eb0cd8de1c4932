"""Domain services. Handlers reach the database only through these, one set per message."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import utcnow
from bot.services.accounts import AccountService
from bot.services.adoption import AdoptionService
from bot.services.audit import AuditService
from bot.services.broadcasts import BroadcastService
from bot.services.codes import CodeService
from bot.services.conversations import ConversationService
from bot.services.files import IncomingFiles
from bot.services.handbook import HandbookIndex
from bot.services.linking import LinkingService
from bot.services.meetings.attendance import AttendanceService
from bot.services.meetings.calendar import MeetingService
from bot.services.outbox import OutboxService
from bot.services.permissions import PermissionService
from bot.services.questions import QuestionService
from bot.services.quizzes.report import QuizReports
from bot.services.quizzes.service import QuizService
from bot.settings import Settings


@dataclass(frozen=True)
class Shared:
    """What every message's services share in a process: built once at start."""

    settings: Settings
    handbook: HandbookIndex
    clock: Callable[[], datetime] = field(default=utcnow)
    # Wakes the outbox dispatcher after a transaction that queued messages commits.
    notify_outbox: Callable[[], None] = field(default=lambda: None)
    # Wakes the quiz scheduler after a transaction that scheduled a quiz commits, so a quiz
    # opened "now" sends its invitations now.
    notify_schedule: Callable[[], None] = field(default=lambda: None)
    # Messengers that can hand over files members send register a fetcher here at start.
    files: IncomingFiles = field(default_factory=IncomingFiles)

    @cached_property
    def seal_key(self) -> bytes:
        """Seals button data that names an account's rows (bot/button_data.py): derived from
        the deployment's own secrets (bot tokens, webhook secrets, the database address), so
        every worker computes the same key and buttons outlive a restart."""
        settings = self.settings
        secrets = (
            settings.database_url,
            settings.telegram_token,
            settings.telegram_webhook_secret,
            settings.zalo_token,
            settings.zalo_webhook_secret,
        )
        material = "\0".join(["sotay button seal", *(secret or "" for secret in secrets)])
        return hashlib.sha256(material.encode()).digest()


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Callable[[], datetime]
    handbook: HandbookIndex
    accounts: AccountService
    conversations: ConversationService
    audit: AuditService
    linking: LinkingService
    permissions: PermissionService
    questions: QuestionService
    codes: CodeService
    adoption: AdoptionService
    outbox: OutboxService
    broadcasts: BroadcastService
    meetings: MeetingService
    quizzes: QuizService
    quiz_reports: QuizReports
    attendance: AttendanceService
    files: IncomingFiles

    @classmethod
    def for_session(cls, session: AsyncSession, shared: Shared) -> Services:
        audit = AuditService(session)
        outbox = OutboxService(session)
        meetings = MeetingService(session, outbox, audit, shared.clock, shared.settings.timezone)
        return cls(
            settings=shared.settings,
            clock=shared.clock,
            handbook=shared.handbook,
            accounts=AccountService(session, audit),
            conversations=ConversationService(session),
            audit=audit,
            linking=LinkingService(session, audit, shared.clock),
            permissions=PermissionService(session),
            questions=QuestionService(session, shared.clock),
            codes=CodeService(session),
            adoption=AdoptionService(session),
            outbox=outbox,
            broadcasts=BroadcastService(session, outbox, audit, shared.clock),
            meetings=meetings,
            quizzes=QuizService(session, outbox, audit, shared.clock, shared.settings.timezone),
            quiz_reports=QuizReports(session),
            attendance=AttendanceService(
                session, meetings, audit, shared.clock, shared.settings.timezone
            ),
            files=shared.files,
        )
