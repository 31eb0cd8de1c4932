"""Quizzes as data: a quiz is a window of time for some units. A trainer (or an operator)
schedules one; the scheduler (jobs/quizzes.py) opens it (invitations through the outbox),
reminds 24 hours before it closes and closes it (unfinished attempts scored as they stand,
the results sent to whom the quiz reports to). Each event happens once: the quiz row records
it in the transaction that does it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChannelAccount, Member, Organisation, Quiz, QuizAttempt, QuizTarget
from bot.services.audit import AuditService
from bot.services.notices import QuizClosingSoon, QuizInvitation, QuizResults
from bot.services.outbox import OutboxService
from bot.services.outbox_once import enqueue_members_once
from bot.services.permissions import Actor, PermissionService
from bot.services.quizzes.catalogue import QuizCatalogue, shipped_banks
from bot.services.quizzes.report import QuizReports

if TYPE_CHECKING:
    from bot.services.quizzes.attempts import QuizAttempts

log = logging.getLogger(__name__)

REMIND_BEFORE_CLOSING = timedelta(hours=24)


class State(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class Event(StrEnum):
    OPEN = "open"
    REMIND = "remind"
    CLOSE = "close"


@dataclass(frozen=True)
class Due:
    quiz_id: int
    event: Event


async def target_paths(session: AsyncSession, quiz_id: int) -> list[str]:
    """The paths of the units a quiz is for (their subtrees take it)."""
    rows = await session.scalars(
        select(Organisation.path)
        .join(QuizTarget, QuizTarget.organisation_id == Organisation.id)
        .where(QuizTarget.quiz_id == quiz_id)
    )
    return list(rows)


class QuizSchedule:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        audit: AuditService,
        clock: Callable[[], datetime],
        catalogue: QuizCatalogue,
        attempts: QuizAttempts,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._audit = audit
        self._clock = clock
        self._catalogue = catalogue
        self._attempts = attempts
        # Set once this session scheduled a quiz: the scheduler is woken after the commit.
        self.scheduled = False

    async def schedule(
        self,
        *,
        title: str,
        unit_ids: Sequence[int],
        question_count: int,
        opens_at: datetime,
        closes_at: datetime,
        actor: str,
        bank_ids: Sequence[str] | None = None,
        topics: Sequence[str] = (),
        pass_mark: int = 70,
        seconds_per_question: int | None = None,
        attempts_allowed: int = 1,
        show_explanations: bool = True,
        shuffle_questions: bool = True,
        shuffle_choices: bool = True,
        by: Actor | None = None,
        report_to: int | None = None,
    ) -> Quiz:
        """A new quiz. An actor `by` must have every unit in their scope (PermissionDenied
        otherwise); without one, the caller is an operator. The results go at closing to
        `report_to`, by default the member who scheduled it."""
        if by is not None:
            await PermissionService(self._session).require(by.scope, unit_ids)
        if not unit_ids or question_count < 1 or closes_at <= opens_at:
            raise ValueError(
                "a quiz needs units, questions and a window that closes after it opens"
            )
        if not 0 <= pass_mark <= 100 or attempts_allowed < 1:
            raise ValueError("pass mark is a percent and at least one attempt is allowed")
        if seconds_per_question is not None and seconds_per_question < 1:
            raise ValueError("a time limit per question is at least one second")
        await self._catalogue.sync_shipped()
        banks = list(bank_ids) if bank_ids else [bank.id for bank in shipped_banks()]
        quiz = Quiz(
            title=title,
            created_by=actor,
            created_at=self._clock(),
            bank_ids=banks,
            topics=list(topics),
            question_count=question_count,
            shuffle_questions=shuffle_questions,
            shuffle_choices=shuffle_choices,
            seconds_per_question=seconds_per_question,
            pass_mark=pass_mark,
            opens_at=opens_at,
            closes_at=closes_at,
            attempts_allowed=attempts_allowed,
            show_explanations=show_explanations,
            state=State.SCHEDULED,
            report_to_member_id=(by.member.id if by else None) if report_to is None else report_to,
        )
        self._session.add(quiz)
        await self._session.flush()
        for unit_id in sorted(set(unit_ids)):
            self._session.add(QuizTarget(quiz_id=quiz.id, organisation_id=unit_id))
        await self._audit.record(actor, "quiz.schedule", f"quiz:{quiz.id}", units=list(unit_ids))
        self.scheduled = True
        return quiz

    def _moments(self, quiz: Quiz) -> list[tuple[datetime, Event]]:
        if quiz.state == State.SCHEDULED:
            return [(quiz.opens_at, Event.OPEN), (quiz.closes_at, Event.CLOSE)]
        if quiz.state == State.OPEN:
            moments = [(quiz.closes_at, Event.CLOSE)]
            if quiz.reminded_at is None:
                moments.append((quiz.closes_at - REMIND_BEFORE_CLOSING, Event.REMIND))
            return moments
        return []

    async def _live(self) -> list[Quiz]:
        rows = await self._session.scalars(select(Quiz).where(Quiz.state != State.CLOSED))
        return list(rows)

    async def next_due(self) -> datetime | None:
        moments = [at for quiz in await self._live() for at, _ in self._moments(quiz)]
        return min(moments, default=None)

    async def due_events(self, now: datetime) -> list[Due]:
        """What is due by `now`: closing wins over opening or reminding a quiz whose window
        already ended, and a quiz opens before it is reminded."""
        due: list[Due] = []
        for quiz in await self._live():
            events = {event for at, event in self._moments(quiz) if at <= now}
            if Event.CLOSE in events:
                due.append(Due(quiz.id, Event.CLOSE))
            elif Event.OPEN in events:
                due.append(Due(quiz.id, Event.OPEN))
            elif Event.REMIND in events:
                due.append(Due(quiz.id, Event.REMIND))
        return due

    async def run_due(self, due: Due) -> bool:
        """Handles one due event, marking the quiz in the same transaction so it happens
        once. True if it did something."""
        quiz = await self._session.get(Quiz, due.quiz_id, with_for_update=True)
        if quiz is None:
            return False
        now = self._clock()
        moments = {event for at, event in self._moments(quiz) if at <= now}
        if due.event not in moments:
            return False
        if due.event is Event.OPEN:
            await self._open(quiz, now)
        elif due.event is Event.REMIND:
            await self._remind(quiz, now)
        else:
            await self._close(quiz)
        return True

    async def _open(self, quiz: Quiz, now: datetime) -> None:
        quiz.state = State.OPEN
        if quiz.closes_at - now <= REMIND_BEFORE_CLOSING:
            quiz.reminded_at = now  # the invitation already says when it closes
        members = await self._linked_members(quiz.id)
        await enqueue_members_once(
            self._session,
            f"quiz:{quiz.id}:open",
            members,
            self._outbox.render(QuizInvitation(quiz)),
            kind="quiz_invitation",
            now=now,
        )
        log.info("quiz %d opened: %d invitations", quiz.id, len(members))

    async def _remind(self, quiz: Quiz, now: datetime) -> None:
        quiz.reminded_at = now
        finished = select(QuizAttempt.member_id).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.finished_at.is_not(None)
        )
        done = set(await self._session.scalars(finished))
        waiting = [m for m in await self._linked_members(quiz.id) if m not in done]
        await enqueue_members_once(
            self._session,
            f"quiz:{quiz.id}:remind",
            waiting,
            self._outbox.render(QuizClosingSoon(quiz)),
            kind="quiz_reminder",
            now=now,
        )

    async def _close(self, quiz: Quiz) -> None:
        quiz.state = State.CLOSED
        unfinished = await self._session.scalars(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.finished_at.is_(None)
            )
        )
        for attempt in unfinished:
            await self._attempts.finish(quiz, attempt, quiz.closes_at)
        if quiz.report_to_member_id is not None:
            await self._send_report(quiz)

    async def _send_report(self, quiz: Quiz) -> None:
        """The results to the trainer through the outbox. Rather than teach every sender to
        upload files, the message carries «Tải báo cáo», which answers in chat with the
        workbook and the chart (as /baocaoquiz does), checking again who asks."""
        assert quiz.report_to_member_id is not None
        report = await QuizReports(self._session).build(quiz)
        await enqueue_members_once(
            self._session,
            f"quiz:{quiz.id}:report",
            [quiz.report_to_member_id],
            self._outbox.render(QuizResults(report)),
            kind="quiz_report",
            now=self._clock(),
        )

    async def recent(self, limit: int) -> list[Quiz]:
        """The quizzes scheduled last, the newest first."""
        rows = await self._session.scalars(select(Quiz).order_by(Quiz.id.desc()).limit(limit))
        return list(rows)

    async def quiz(self, quiz_id: int) -> Quiz | None:
        return await self._session.get(Quiz, quiz_id)

    async def _linked_members(self, quiz_id: int) -> list[int]:
        """Active members of the target units (and the units under them) with a linked
        account."""
        paths = await target_paths(self._session, quiz_id)
        if not paths:
            return []
        rows = await self._session.scalars(
            select(Member.id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                Member.active.is_(True),
                or_(*(Organisation.path.startswith(path) for path in paths)),
                select(ChannelAccount.id).where(ChannelAccount.member_id == Member.id).exists(),
            )
            .order_by(Member.id)
        )
        return list(rows)
