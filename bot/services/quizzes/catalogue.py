"""The question banks a quiz draws from: the banks shipped in content/quizzes and those
trainers import from spreadsheets, kept as rows so attempts keep the questions they asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import QuizQuestionRow
from bot.services.audit import AuditService
from bot.services.quizzes.bank import QuestionBank, QuizQuestion, load_banks


@cache
def shipped_banks() -> tuple[QuestionBank, ...]:
    """The banks in content/quizzes, read once per process."""
    return tuple(load_banks())


@dataclass(frozen=True)
class BankInfo:
    """A bank a quiz can draw from, shipped or imported from a spreadsheet."""

    id: str
    title: str  # an imported bank has no title but its id
    questions: int
    shipped: bool


class QuizCatalogue:
    def __init__(self, session: AsyncSession, audit: AuditService) -> None:
        self._session = session
        self._audit = audit

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
