"""A quiz's results, computed once for everyone who reads them: the message the trainer gets
when the quiz closes and /baocaoquiz in chat (handlers/quiz_report.py), the workbook and the
chart (bot/exports) and `sotay quiz report`.

Who counts: the active members of the target units (and the units under them), each in the
unit they belong to. "Invited" are those with an account linked to the bot when the report
is made; invitations are not kept per quiz, and the difference is members who linked or left
since. A member's score is their best scored attempt; closing scores unfinished attempts as
they stand, so after closing everyone who started has a score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
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
from bot.services.permissions import Actor, PermissionService
from bot.services.rankings import RankingService, UnitRank, ranked


def rate(part: int, whole: int) -> int | None:
    """`part` as a whole percent of `whole`; None when there is nothing to rate."""
    return round(100 * part / whole) if whole else None


@dataclass(frozen=True)
class MemberResult:
    member_id: int
    full_name: str
    unit_id: int
    unit_name: str
    linked: bool
    attempts: int
    finished: bool  # answered every question of an attempt
    score: int | None  # the best scored attempt, percent
    passed: bool

    @property
    def started(self) -> bool:
        return self.attempts > 0


@dataclass(frozen=True)
class Participation:
    """Counts of members; `average` and `pass_rate` are over those with a score."""

    members: int
    invited: int
    started: int
    finished: int
    scored: int
    passed: int
    average: int | None

    @property
    def pass_rate(self) -> int | None:
        return rate(self.passed, self.scored)

    @classmethod
    def of(cls, members: Sequence[MemberResult]) -> Participation:
        scores = [m.score for m in members if m.score is not None]
        return cls(
            members=len(members),
            invited=sum(m.linked for m in members),
            started=sum(m.started for m in members),
            finished=sum(m.finished for m in members),
            scored=len(scores),
            passed=sum(m.passed for m in members),
            average=round(sum(scores) / len(scores)) if scores else None,
        )


@dataclass(frozen=True)
class QuizTally:
    """A unit's members over several quizzes, each member counted once per quiz: `members`
    member-quiz pairs, of which `scored` took it (at closing everyone who started has a
    score) and `passed` passed."""

    quizzes: frozenset[int] = frozenset()
    members: int = 0
    scored: int = 0
    passed: int = 0

    @property
    def took_rate(self) -> int | None:
        return rate(self.scored, self.members)

    @property
    def pass_rate(self) -> int | None:
        return rate(self.passed, self.scored)

    def __add__(self, other: QuizTally) -> QuizTally:
        return QuizTally(
            self.quizzes | other.quizzes,
            self.members + other.members,
            self.scored + other.scored,
            self.passed + other.passed,
        )


@dataclass(frozen=True)
class UnitResults:
    unit_id: int
    unit_name: str
    members: tuple[MemberResult, ...]
    totals: Participation


@dataclass(frozen=True)
class MissedQuestion:
    text: str
    topic: str
    answered: int
    wrong: int  # wrong choices and answers too late

    @property
    def percent_wrong(self) -> int:
        return rate(self.wrong, self.answered) or 0


@dataclass(frozen=True)
class AnswerRow:
    full_name: str
    unit_name: str
    attempt: int
    number: int  # the question's place in the attempt, from 1
    question: str
    chosen: str | None  # the choice's text; None when time ran out
    right: str
    correct: bool
    answered_at: datetime


@dataclass(frozen=True)
class QuizReport:
    quiz_id: int
    title: str
    pass_mark: int
    closes_at: datetime
    closed: bool
    units: tuple[UnitResults, ...]
    overall: Participation
    # Every question answered at least once, the most often missed first.
    missed: tuple[MissedQuestion, ...]
    answers: tuple[AnswerRow, ...]
    # Its units ranked by participation and average (bot/services/rankings.py).
    ranking: tuple[UnitRank, ...] = ()

    @property
    def members(self) -> list[MemberResult]:
        return [member for unit in self.units for member in unit.members]


def _units(members: Sequence[MemberResult]) -> tuple[UnitResults, ...]:
    """The members grouped by unit, in the order the units first appear."""
    grouped: dict[int, list[MemberResult]] = {}
    for member in members:
        grouped.setdefault(member.unit_id, []).append(member)
    return tuple(
        UnitResults(unit_id, group[0].unit_name, tuple(group), Participation.of(group))
        for unit_id, group in grouped.items()
    )


def _ranking(units: Sequence[UnitResults], named: set[int]) -> list[UnitRank]:
    return ranked(
        UnitRank(
            unit.unit_name,
            unit.totals.members,
            unit.totals.started,
            unit.totals.average,
            tuple(
                f"{m.full_name} ({m.score}%)"
                for m in unit.members
                if m.member_id in named and m.score is not None
            ),
        )
        for unit in units
    )


class QuizReports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def target_units(self, quiz_id: int) -> list[int]:
        rows = await self._session.scalars(
            select(QuizTarget.organisation_id).where(QuizTarget.quiz_id == quiz_id)
        )
        return sorted(rows)

    async def may_see(self, actor: Actor, quiz: Quiz) -> bool:
        """The member the quiz reports to, or a trainer (or admin) whose scope (to schedule
        quizzes) covers every unit the quiz is for."""
        if quiz.report_to_member_id == actor.member.id:
            return True
        units = await self.target_units(quiz.id)
        return await PermissionService(self._session).within(actor.scope, units)

    async def build(self, quiz: Quiz) -> QuizReport:
        members = await self._members(quiz.id)
        units = _units(members)
        named = await RankingService(self._session).named_members(m.member_id for m in members)
        return QuizReport(
            quiz_id=quiz.id,
            title=quiz.title,
            pass_mark=quiz.pass_mark,
            closes_at=quiz.closes_at,
            closed=quiz.state == "closed",  # State.CLOSED; service.py imports this module
            units=units,
            overall=Participation.of(members),
            missed=await self._missed(quiz.id),
            answers=await self._answers(quiz.id),
            ranking=tuple(_ranking(units, named)),
        )

    async def closed_by_unit(self, start: datetime, end: datetime) -> dict[int, QuizTally]:
        """Per unit, its own members (not those of units under it) over the quizzes that
        closed in [start, end): counted as each quiz's report counts them."""
        quiz_ids = await self._session.scalars(
            select(Quiz.id)
            .where(Quiz.state == "closed", Quiz.closes_at >= start, Quiz.closes_at < end)
            .order_by(Quiz.id)
        )
        tallies: dict[int, QuizTally] = {}
        for quiz_id in list(quiz_ids):
            for member in await self._members(quiz_id):
                took = int(member.score is not None)
                one = QuizTally(frozenset({quiz_id}), 1, took, int(member.passed))
                tallies[member.unit_id] = tallies.get(member.unit_id, QuizTally()) + one
        return tallies

    async def _members(self, quiz_id: int) -> list[MemberResult]:
        paths = list(
            await self._session.scalars(
                select(Organisation.path)
                .join(QuizTarget, QuizTarget.organisation_id == Organisation.id)
                .where(QuizTarget.quiz_id == quiz_id)
            )
        )
        if not paths:
            return []
        answered = (
            select(QuizAnswer.attempt_id, func.count().label("answers"))
            .group_by(QuizAnswer.attempt_id)
            .subquery()
        )
        attempts = await self._session.execute(
            select(
                QuizAttempt.member_id,
                QuizAttempt.score,
                QuizAttempt.passed,
                QuizAttempt.question_order,
                func.coalesce(answered.c.answers, 0),
            )
            .outerjoin(answered, answered.c.attempt_id == QuizAttempt.id)
            .where(QuizAttempt.quiz_id == quiz_id)
        )
        tried: dict[int, int] = {}
        finished: set[int] = set()
        best: dict[int, tuple[int, bool]] = {}
        for member_id, score, passed, order, answers in attempts:
            tried[member_id] = tried.get(member_id, 0) + 1
            if answers >= len(order):
                finished.add(member_id)
            if score is not None and (member_id not in best or score > best[member_id][0]):
                best[member_id] = (score, bool(passed))
        linked = select(ChannelAccount.id).where(ChannelAccount.member_id == Member.id).exists()
        rows = await self._session.execute(
            select(Member.id, Member.full_name, Organisation.id, Organisation.name, linked)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                Member.active.is_(True),
                or_(*(Organisation.path.startswith(path) for path in paths)),
            )
            .order_by(Organisation.path, Member.full_name, Member.id)
        )
        return [
            MemberResult(
                member_id=member_id,
                full_name=name,
                unit_id=unit_id,
                unit_name=unit_name,
                linked=bool(is_linked),
                attempts=tried.get(member_id, 0),
                finished=member_id in finished,
                score=best[member_id][0] if member_id in best else None,
                passed=member_id in best and best[member_id][1],
            )
            for member_id, name, unit_id, unit_name, is_linked in rows
        ]

    async def _missed(self, quiz_id: int) -> tuple[MissedQuestion, ...]:
        wrong = func.sum(case((QuizAnswer.correct.is_(False), 1), else_=0))
        rows = await self._session.execute(
            select(
                QuizQuestionRow.id,
                QuizQuestionRow.text,
                QuizQuestionRow.topic,
                func.count(QuizAnswer.id),
                wrong,
            )
            .join(QuizAnswer, QuizAnswer.question_id == QuizQuestionRow.id)
            .join(QuizAttempt, QuizAttempt.id == QuizAnswer.attempt_id)
            .where(QuizAttempt.quiz_id == quiz_id)
            .group_by(QuizQuestionRow.id, QuizQuestionRow.text, QuizQuestionRow.topic)
        )
        found = [
            (question_id, MissedQuestion(body, topic, answered, int(missed or 0)))
            for question_id, body, topic, answered, missed in rows
        ]
        found.sort(key=lambda pair: (-pair[1].percent_wrong, -pair[1].wrong, pair[0]))
        return tuple(question for _, question in found)

    async def _answers(self, quiz_id: int) -> tuple[AnswerRow, ...]:
        rows = await self._session.execute(
            select(
                Member.full_name,
                Organisation.name,
                QuizAttempt.number,
                QuizAttempt.question_order,
                QuizAnswer.question_id,
                QuizAnswer.chosen,
                QuizAnswer.correct,
                QuizAnswer.answered_at,
                QuizQuestionRow.text,
                QuizQuestionRow.choices,
                QuizQuestionRow.answer,
            )
            .join(QuizAttempt, QuizAttempt.id == QuizAnswer.attempt_id)
            .join(QuizQuestionRow, QuizQuestionRow.id == QuizAnswer.question_id)
            .join(Member, Member.id == QuizAttempt.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(QuizAttempt.quiz_id == quiz_id)
            .order_by(Organisation.path, Member.full_name, QuizAttempt.number, QuizAnswer.id)
        )
        return tuple(
            AnswerRow(
                full_name=name,
                unit_name=unit,
                attempt=number,
                number=order.index(question_id) + 1,
                question=body,
                chosen=None if chosen is None else choices[chosen],
                right=choices[answer],
                correct=correct,
                answered_at=answered_at,
            )
            for (
                name,
                unit,
                number,
                order,
                question_id,
                chosen,
                correct,
                answered_at,
                body,
                choices,
                answer,
            ) in rows
        )
