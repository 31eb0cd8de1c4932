"""Taking a quiz: which open quizzes are a member's, one question at a time in the order drawn
for the attempt, answers checked against the clock, the score when the last is answered
(or at closing, as the attempt stands), and the member's results. The server keeps the
order, the clock and the score."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation, Quiz, QuizAnswer, QuizAttempt, QuizQuestionRow
from bot.services.quizzes.lifecycle import State, target_paths

_Held = TypeVar("_Held", Quiz, QuizQuestionRow)


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


class QuizAttempts:
    def __init__(
        self,
        session: AsyncSession,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self._clock = clock
        self._rng = rng or random.Random()
        # Quizzes and questions this transaction loaded. The session's identity map holds
        # objects weakly, and a tap reads them when answering and again for the next question.
        self._held: dict[tuple[type, int], Quiz | QuizQuestionRow] = {}

    async def _targets_member(self, quiz_id: int, unit_id: int) -> bool:
        unit = await self._session.get(Organisation, unit_id)
        paths = await target_paths(self._session, quiz_id)
        return unit is not None and any(unit.path.startswith(path) for path in paths)

    async def open_quizzes(self, unit_id: int) -> list[Quiz]:
        rows = await self._session.scalars(
            select(Quiz)
            .where(Quiz.state == State.OPEN, Quiz.closes_at > self._clock())
            .order_by(Quiz.closes_at)
        )
        return [quiz for quiz in rows if await self._targets_member(quiz.id, unit_id)]

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
            finished = await self.finish(quiz, attempt, now)
        right = order.index(row.answer)
        return Answered(
            Outcome.TIMED_OUT if timed_out else Outcome.RECORDED,
            correct=correct,
            correct_shown=right,
            correct_choice=row.choices[row.answer],
            explanation=row.explanation if quiz.show_explanations else None,
            finished=finished,
        )

    async def finish(self, quiz: Quiz, attempt: QuizAttempt, at: datetime) -> Finished:
        """Scores the attempt as it stands: after its last answer, or when the quiz closes."""
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
