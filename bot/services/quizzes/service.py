"""Quizzes as data: a quiz is a window of time for some units; the scheduler
(jobs/quizzes.py) opens it (invitations through the outbox), reminds 24 hours before it
closes and closes it (unfinished attempts scored as they stand). Members answer one question
at a time; the server keeps the order, the clock and the score."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    ChannelAccount,
    Member,
    Organisation,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    QuizQuestionRow,
    QuizTarget,
)
from bot.services.audit import AuditService
from bot.services.notices import QuizClosingSoon, QuizInvitation, QuizResults
from bot.services.outbox import OutboxService
from bot.services.permissions import Actor, PermissionService
from bot.services.quizzes.bank import QuestionBank, QuizQuestion, load_banks
from bot.services.quizzes.report import QuizReports

log = logging.getLogger(__name__)

REMIND_BEFORE_CLOSING = timedelta(hours=24)
_Held = TypeVar("_Held", Quiz, QuizQuestionRow)


class State(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class Event(StrEnum):
    OPEN = "open"
    REMIND = "remind"
    CLOSE = "close"


class Outcome(StrEnum):
    RECORDED = "recorded"
    TIMED_OUT = "timed_out"
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"
    NOT_FOUND = "not_found"


class StartRefused(StrEnum):
    NOT_OPEN = "not_open"
    NOT_TARGETED = "not_targeted"
    NO_ATTEMPTS_LEFT = "no_attempts_left"
    NO_QUESTIONS = "no_questions"


@cache
def shipped_banks() -> tuple[QuestionBank, ...]:
    """The banks in content/quizzes, read once per process."""
    return tuple(load_banks())


def percent(correct: int, total: int) -> int:
    return round(100 * correct / total) if total else 0


@dataclass(frozen=True)
class Shown:
    """The question an attempt is at, as the member sees it."""

    attempt_id: int
    position: int
    total: int
    text: str
    choices: tuple[str, ...]
    correct_shown: int
    seconds: int | None


@dataclass(frozen=True)
class Answered:
    outcome: Outcome
    correct: bool = False
    correct_shown: int = 0  # the right choice's place as shown
    correct_choice: str = ""
    explanation: str | None = None
    finished: Finished | None = None


@dataclass(frozen=True)
class Finished:
    title: str
    correct: int
    total: int
    score: int
    passed: bool
    pass_mark: int


@dataclass(frozen=True)
class Result:
    title: str
    number: int
    score: int
    passed: bool
    unit_average: int | None


@dataclass(frozen=True)
class BankInfo:
    """A bank a quiz can draw from, shipped or imported from a spreadsheet."""

    id: str
    title: str  # an imported bank has no title but its id
    questions: int
    shipped: bool


@dataclass(frozen=True)
class Due:
    quiz_id: int
    event: Event


class QuizService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        audit: AuditService,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._audit = audit
        self._clock = clock
        self._tz = timezone
        self._rng = rng or random.Random()
        # Set once this session scheduled a quiz: the scheduler is woken after the commit.
        self.scheduled = False
        # Quizzes and questions this transaction loaded. The session's identity map holds
        # objects weakly, and a tap reads them in the service and again in the handler.
        self._held: dict[tuple[type, int], Quiz | QuizQuestionRow] = {}

    # --- Banks -----------------------------------------------------------------------------

    async def sync_bank(self, bank_id: str, questions: Sequence[QuizQuestion]) -> int:
        """Adds or updates the bank's questions; questions already asked keep their row.
        Returns how many were added."""
        existing = {
            row.question_id: row
            for row in await self._session.scalars(
                select(QuizQuestionRow).where(QuizQuestionRow.bank_id == bank_id)
            )
        }
        added = 0
        for question in questions:
            row = existing.get(question.id)
            if row is None:
                row = QuizQuestionRow(bank_id=bank_id, question_id=question.id)
                self._session.add(row)
                added += 1
            row.text, row.choices, row.answer = (
                question.question,
                list(question.choices),
                question.answer,
            )
            row.explanation, row.topic = question.explanation, question.topic
            row.difficulty, row.entry = question.difficulty.value, question.entry
        await self._session.flush()
        return added

    async def sync_shipped(self) -> int:
        return sum([await self.sync_bank(bank.id, bank.questions) for bank in shipped_banks()])

    async def import_bank(
        self, bank_id: str, questions: Sequence[QuizQuestion], *, actor: str
    ) -> int:
        """A trainer's spreadsheet saved as bank `bank_id` (rows already checked), audited;
        returns how many questions were new. A shipped bank cannot be written over."""
        if bank_id in {bank.id for bank in shipped_banks()}:
            raise ValueError(f"{bank_id} is a shipped bank")
        added = await self.sync_bank(bank_id, questions)
        await self._audit.record(
            actor, "quiz.import", f"bank:{bank_id}", questions=len(questions), added=added
        )
        return added

    async def banks(self) -> list[BankInfo]:
        """Every bank known: the shipped ones in file order, then the imported ones by id."""
        await self.sync_shipped()
        counts: dict[str, int] = dict(
            (
                await self._session.execute(
                    select(QuizQuestionRow.bank_id, func.count()).group_by(QuizQuestionRow.bank_id)
                )
            ).all()
        )
        shipped = [
            BankInfo(bank.id, bank.title, counts.pop(bank.id, 0), True) for bank in shipped_banks()
        ]
        return shipped + [BankInfo(bank, bank, n, False) for bank, n in sorted(counts.items())]

    async def topics(self, bank_ids: Sequence[str]) -> list[tuple[str, int]]:
        """The topics of these banks with their number of questions, by name."""
        rows = await self._session.execute(
            select(QuizQuestionRow.topic, func.count())
            .where(QuizQuestionRow.bank_id.in_(bank_ids))
            .group_by(QuizQuestionRow.topic)
            .order_by(QuizQuestionRow.topic)
        )
        return [(topic, count) for topic, count in rows]

    async def pool_size(self, bank_ids: Sequence[str], topics: Sequence[str] = ()) -> int:
        """How many questions a quiz on these banks (and topics; none: every topic) draws
        from."""
        query = select(func.count()).where(QuizQuestionRow.bank_id.in_(bank_ids))
        if topics:
            query = query.where(QuizQuestionRow.topic.in_(topics))
        return await self._session.scalar(query) or 0

    # --- Scheduling ------------------------------------------------------------------------

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
        await self.sync_shipped()
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
        await self._outbox.enqueue_members(
            members, QuizInvitation(quiz), kind="quiz_invitation", now=now
        )
        log.info("quiz %d opened: %d invitations", quiz.id, len(members))

    async def _remind(self, quiz: Quiz, now: datetime) -> None:
        quiz.reminded_at = now
        finished = select(QuizAttempt.member_id).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.finished_at.is_not(None)
        )
        done = set(await self._session.scalars(finished))
        waiting = [m for m in await self._linked_members(quiz.id) if m not in done]
        await self._outbox.enqueue_members(
            waiting, QuizClosingSoon(quiz), kind="quiz_reminder", now=now
        )

    async def _close(self, quiz: Quiz) -> None:
        quiz.state = State.CLOSED
        unfinished = await self._session.scalars(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.finished_at.is_(None)
            )
        )
        for attempt in unfinished:
            await self._finish(quiz, attempt, quiz.closes_at)
        if quiz.report_to_member_id is not None:
            await self._send_report(quiz)

    # --- Reports ---------------------------------------------------------------------------

    async def _send_report(self, quiz: Quiz) -> None:
        """The results to the trainer through the outbox. Rather than teach every sender to
        upload files, the message carries «Tải báo cáo», which answers in chat with the
        workbook and the chart (as /baocaoquiz does), checking again who asks."""
        assert quiz.report_to_member_id is not None
        report = await QuizReports(self._session).build(quiz)
        await self._outbox.enqueue_members(
            [quiz.report_to_member_id], QuizResults(report), kind="quiz_report", now=self._clock()
        )

    async def recent(self, limit: int) -> list[Quiz]:
        """The quizzes scheduled last, the newest first."""
        rows = await self._session.scalars(select(Quiz).order_by(Quiz.id.desc()).limit(limit))
        return list(rows)

    async def _target_paths(self, quiz_id: int) -> list[str]:
        rows = await self._session.scalars(
            select(Organisation.path)
            .join(QuizTarget, QuizTarget.organisation_id == Organisation.id)
            .where(QuizTarget.quiz_id == quiz_id)
        )
        return list(rows)

    async def _linked_members(self, quiz_id: int) -> list[int]:
        """Active members of the target units (and the units under them) with a linked
        account."""
        paths = await self._target_paths(quiz_id)
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

    async def _targets_member(self, quiz_id: int, unit_id: int) -> bool:
        unit = await self._session.get(Organisation, unit_id)
        paths = await self._target_paths(quiz_id)
        return unit is not None and any(unit.path.startswith(path) for path in paths)

    # --- Taking a quiz ---------------------------------------------------------------------

    async def open_quizzes(self, unit_id: int) -> list[Quiz]:
        rows = await self._session.scalars(
            select(Quiz)
            .where(Quiz.state == State.OPEN, Quiz.closes_at > self._clock())
            .order_by(Quiz.closes_at)
        )
        return [quiz for quiz in rows if await self._targets_member(quiz.id, unit_id)]

    async def quiz(self, quiz_id: int) -> Quiz | None:
        return await self._session.get(Quiz, quiz_id)

    async def start(self, quiz_id: int, member_id: int, unit_id: int) -> QuizAttempt | StartRefused:
        """The member's unfinished attempt (to resume), or a new one if they have tries
        left."""
        quiz = await self._session.get(Quiz, quiz_id)
        if quiz is None or quiz.state != State.OPEN or self._clock() >= quiz.closes_at:
            return StartRefused.NOT_OPEN
        if not await self._targets_member(quiz_id, unit_id):
            return StartRefused.NOT_TARGETED
        attempts = list(
            await self._session.scalars(
                select(QuizAttempt).where(
                    QuizAttempt.quiz_id == quiz_id, QuizAttempt.member_id == member_id
                )
            )
        )
        unfinished = next((a for a in attempts if a.finished_at is None), None)
        if unfinished is not None:
            return unfinished
        if len(attempts) >= quiz.attempts_allowed:
            return StartRefused.NO_ATTEMPTS_LEFT
        order = await self._draw(quiz)
        if not order:
            return StartRefused.NO_QUESTIONS
        attempt = QuizAttempt(
            quiz_id=quiz_id,
            member_id=member_id,
            number=len(attempts) + 1,
            started_at=self._clock(),
            question_order=[row.id for row in order],
            choice_orders=[self._choice_order(quiz, len(row.choices)) for row in order],
            current_index=0,
        )
        self._session.add(attempt)
        await self._session.flush()
        return attempt

    async def _draw(self, quiz: Quiz) -> list[QuizQuestionRow]:
        query = select(QuizQuestionRow).where(QuizQuestionRow.bank_id.in_(quiz.bank_ids))
        if quiz.topics:
            query = query.where(QuizQuestionRow.topic.in_(quiz.topics))
        pool = list(await self._session.scalars(query.order_by(QuizQuestionRow.id)))
        picked = self._rng.sample(pool, min(quiz.question_count, len(pool)))
        return picked if quiz.shuffle_questions else sorted(picked, key=lambda row: row.id)

    def _choice_order(self, quiz: Quiz, count: int) -> list[int]:
        order = list(range(count))
        if quiz.shuffle_choices:
            self._rng.shuffle(order)
        return order

    async def unfinished_attempt(self, quiz_id: int, member_id: int) -> QuizAttempt | None:
        return await self._session.scalar(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz_id,
                QuizAttempt.member_id == member_id,
                QuizAttempt.finished_at.is_(None),
            )
        )

    def _hold(self, loaded: Quiz | QuizQuestionRow) -> None:
        self._held[(type(loaded), loaded.id)] = loaded

    async def _get(self, kind: type[_Held], key: int) -> _Held:
        held = self._held.get((kind, key))
        if held is None:
            held = await self._session.get(kind, key)
            assert held is not None  # attempts keep their quiz and questions
            self._hold(held)
        assert isinstance(held, kind)
        return held

    async def attempt(self, attempt_id: int) -> QuizAttempt | None:
        return await self._session.get(QuizAttempt, attempt_id)

    async def current(self, attempt: QuizAttempt) -> Shown | None:
        """The question the attempt is at (None when finished); its clock starts the first
        time it is shown and does not restart when it is shown again."""
        if attempt.finished_at is not None or attempt.current_index >= len(attempt.question_order):
            return None
        quiz = await self._get(Quiz, attempt.quiz_id)
        if attempt.current_sent_at is None:
            attempt.current_sent_at = self._clock()
        position = attempt.current_index
        row = await self._get(QuizQuestionRow, attempt.question_order[position])
        order = attempt.choice_orders[position]
        return Shown(
            attempt_id=attempt.id,
            position=position,
            total=len(attempt.question_order),
            text=row.text,
            choices=tuple(row.choices[i] for i in order),
            correct_shown=order.index(row.answer),
            seconds=quiz.seconds_per_question,
        )

    async def answer(self, attempt_id: int, member_id: int, position: int, shown: int) -> Answered:
        """Records the member's choice (as shown) for the question at `position`. A second
        answer to the same question counts nothing; an answer later than the time limit
        counts as wrong; after the quiz closed, nothing is recorded."""
        # The attempt with its quiz, then the question answered with the one shown next:
        # two queries for the whole tap, which is the bot's busiest path under quiz load.
        found = (
            await self._session.execute(
                select(QuizAttempt, Quiz)
                .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
                .where(QuizAttempt.id == attempt_id)
                .with_for_update(of=QuizAttempt)
            )
        ).first()
        if found is None or found[0].member_id != member_id:
            return Answered(Outcome.NOT_FOUND)
        attempt, quiz = found
        self._hold(quiz)
        now = self._clock()
        if quiz.state == State.CLOSED or now >= quiz.closes_at:
            return Answered(Outcome.CLOSED)
        if attempt.finished_at is not None or position != attempt.current_index:
            return Answered(Outcome.ALREADY_ANSWERED)
        assert attempt.current_sent_at is not None  # set when the question was shown
        following = attempt.question_order[position : position + 2]
        for question in await self._session.scalars(
            select(QuizQuestionRow).where(QuizQuestionRow.id.in_(following))
        ):
            self._hold(question)
        row = await self._get(QuizQuestionRow, attempt.question_order[position])
        order = attempt.choice_orders[position]
        limit = quiz.seconds_per_question
        timed_out = limit is not None and now > attempt.current_sent_at + timedelta(seconds=limit)
        chosen = None if timed_out or not 0 <= shown < len(order) else order[shown]
        correct = chosen == row.answer
        self._session.add(
            QuizAnswer(
                attempt_id=attempt.id,
                question_id=row.id,
                chosen=chosen,
                correct=correct,
                answered_at=now,
            )
        )
        attempt.current_index += 1
        attempt.current_sent_at = None
        finished = None
        if attempt.current_index >= len(attempt.question_order):
            finished = await self._finish(quiz, attempt, now)
        right = order.index(row.answer)
        return Answered(
            Outcome.TIMED_OUT if timed_out else Outcome.RECORDED,
            correct=correct,
            correct_shown=right,
            correct_choice=row.choices[row.answer],
            explanation=row.explanation if quiz.show_explanations else None,
            finished=finished,
        )

    async def _finish(self, quiz: Quiz, attempt: QuizAttempt, at: datetime) -> Finished:
        await self._session.flush()
        correct = await self._session.scalar(
            select(func.count()).where(
                QuizAnswer.attempt_id == attempt.id, QuizAnswer.correct.is_(True)
            )
        )
        total = len(attempt.question_order)
        attempt.finished_at = at
        attempt.score = percent(correct or 0, total)
        attempt.passed = attempt.score >= quiz.pass_mark
        return Finished(
            quiz.title, correct or 0, total, attempt.score, attempt.passed, quiz.pass_mark
        )

    # --- Results ---------------------------------------------------------------------------

    async def results(self, member_id: int, unit_id: int) -> list[Result]:
        """The member's finished attempts, each with the average score of the member's own
        unit on that quiz."""
        rows = await self._session.execute(
            select(Quiz.id, Quiz.title, QuizAttempt.number, QuizAttempt.score, QuizAttempt.passed)
            .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .where(QuizAttempt.member_id == member_id, QuizAttempt.finished_at.is_not(None))
            .order_by(QuizAttempt.finished_at)
        )
        results = []
        for quiz_id, title, number, score, passed in rows:
            average = await self._session.scalar(
                select(func.avg(QuizAttempt.score))
                .join(Member, Member.id == QuizAttempt.member_id)
                .where(
                    QuizAttempt.quiz_id == quiz_id,
                    QuizAttempt.finished_at.is_not(None),
                    Member.organisation_id == unit_id,
                )
            )
            unit_average = None if average is None else round(float(average))
            results.append(Result(title, number, score or 0, bool(passed), unit_average))
        return results
