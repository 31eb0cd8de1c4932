"""The handbook's question log (anonymous: what was asked and how the bot did) and the
committee inbox for questions the handbook could not answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import CommitteeQuestion, HandbookQuery, Organisation
from bot.services.handbook import SearchResult
from bot.services.permissions import Grant, Role


class QuestionService:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._clock = clock

    async def log(self, result: SearchResult) -> int:
        row = HandbookQuery(
            asked_at=self._clock(),
            question=result.query[:2000],
            answered=result.answered,
            entry_id=result.entry.id if result.entry else None,
            score=round(result.score, 4),
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def feedback(self, query_id: int, helpful: bool) -> bool:
        row = await self._session.get(HandbookQuery, query_id)
        if row is None:
            return False
        row.helpful = helpful
        return True

    async def send_to_committee(self, query_id: int, account_id: int, organisation_id: int) -> bool:
        """Puts a logged question into the inbox, once; False if it is unknown."""
        row = await self._session.get(HandbookQuery, query_id)
        if row is None:
            return False
        existing = await self._session.scalar(
            select(CommitteeQuestion.id).where(
                CommitteeQuestion.account_id == account_id,
                CommitteeQuestion.question == row.question,
                CommitteeQuestion.answer.is_(None),
            )
        )
        if existing is None:
            self._session.add(
                CommitteeQuestion(
                    account_id=account_id,
                    organisation_id=organisation_id,
                    question=row.question,
                    asked_at=self._clock(),
                )
            )
        return True

    async def for_editors(self, since: datetime) -> list[HandbookQuery]:
        """Questions not answered, or answered with a thumbs down, since a moment."""
        rows = await self._session.scalars(
            select(HandbookQuery)
            .where(
                HandbookQuery.asked_at >= since,
                or_(HandbookQuery.answered.is_(False), HandbookQuery.helpful.is_(False)),
            )
            .order_by(HandbookQuery.asked_at)
        )
        return list(rows)

    async def inbox(
        self, grants: list[Grant], limit: int = 10
    ) -> list[tuple[CommitteeQuestion, str]]:
        """Unanswered questions from the units the grants cover, oldest first, with the
        asker's unit name."""
        query = (
            select(CommitteeQuestion, Organisation.name)
            .join(Organisation, Organisation.id == CommitteeQuestion.organisation_id)
            .where(CommitteeQuestion.answer.is_(None))
            .order_by(CommitteeQuestion.asked_at, CommitteeQuestion.id)
            .limit(limit)
        )
        if not any(g.role is Role.ADMIN for g in grants):
            paths = [g.path for g in grants if g.path]
            if not paths:
                return []
            query = query.where(or_(*(Organisation.path.startswith(p) for p in paths)))
        return [(question, unit) for question, unit in await self._session.execute(query)]

    async def question(self, question_id: int) -> CommitteeQuestion | None:
        return await self._session.get(CommitteeQuestion, question_id)

    async def answer(self, question_id: int, answer: str, member_id: int) -> CommitteeQuestion:
        question = await self._session.get(CommitteeQuestion, question_id)
        if question is None:
            raise LookupError(f"no question {question_id}")
        question.answer, question.answered_by = answer, member_id
        question.answered_at = self._clock()
        return question
