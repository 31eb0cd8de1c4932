"""The handbook's question log (anonymous: what was asked and how the bot did) and the
committee inbox for questions the handbook could not answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.logmask import mask_numbers
from bot.models import CommitteeQuestion, HandbookQuery, Organisation
from bot.services.handbook import SearchResult
from bot.services.permissions import Actor, PermissionDenied, Scope

if TYPE_CHECKING:
    from bot.metrics import Metrics


# A question is logged with each answer: a prebuilt Core insert, which costs far less to run
# than an ORM object and its flush (issue #16, throughput).
_LOG = insert(HandbookQuery)


class QuestionService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Callable[[], datetime],
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._session = session
        self._clock = clock
        self._metrics = metrics

    async def log(self, result: SearchResult, asker: str | None = None) -> int:
        """The question, phone and card numbers cut to their last digits (editors need the
        words, not the numbers); `asker` is personal_data.asker_key of the account."""
        connection = await self._session.connection()
        inserted = await connection.execute(
            _LOG,
            {
                "asked_at": self._clock(),
                "question": mask_numbers(result.query)[:2000],
                "asker_key": asker,
                "answered": result.answered,
                "entry_id": result.entry.id if result.entry else None,
                "score": round(result.score, 4),
            },
        )
        if self._metrics is not None:
            self._metrics.handbook_question(answered=result.answered)
        return int(inserted.inserted_primary_key[0])

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

    async def inbox(self, scope: Scope, limit: int = 10) -> list[tuple[CommitteeQuestion, str]]:
        """Unanswered questions from the units in the scope, oldest first, with the asker's
        unit name."""
        query = (
            select(CommitteeQuestion, Organisation.name)
            .join(Organisation, Organisation.id == CommitteeQuestion.organisation_id)
            .where(CommitteeQuestion.answer.is_(None), scope.where(Organisation.path))
            .order_by(CommitteeQuestion.asked_at, CommitteeQuestion.id)
            .limit(limit)
        )
        return [(question, unit) for question, unit in await self._session.execute(query)]

    async def question(self, question_id: int, scope: Scope) -> CommitteeQuestion | None:
        """The question, if it was asked in a unit in the scope."""
        found = (
            await self._session.execute(
                select(CommitteeQuestion, Organisation.path)
                .join(Organisation, Organisation.id == CommitteeQuestion.organisation_id)
                .where(CommitteeQuestion.id == question_id)
            )
        ).first()
        if found is None or not scope.contains(found[1]):
            return None
        return found[0]

    async def answer(self, question_id: int, answer: str, by: Actor) -> CommitteeQuestion:
        """Records the answer; PermissionDenied when the question is outside the scope."""
        question = await self.question(question_id, by.scope)
        if question is None:
            raise PermissionDenied(f"question {question_id} is outside the scope")
        question.answer, question.answered_by = answer, by.member.id
        question.answered_at = self._clock()
        return question
