"""A controllable clock, quizzes scheduled for the demo units, and ways to read the right
answer of a question shown in chat."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import Database
from bot.messages import Reply
from bot.models import Member, QuizAttempt, QuizQuestionRow
from bot.services.audit import AuditService
from bot.services.outbox import OutboxService
from bot.services.quizzes.service import QuizService
from tests.clock import Clock

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OPENS = datetime(2026, 12, 1, 8, 0, tzinfo=HCM)
CLOSES = OPENS + timedelta(days=3)
# Quiz tests start the day before it opens.
BEFORE_OPENING = datetime(2026, 11, 30, 10, 0, tzinfo=HCM)


def service(session: object, clock: Clock) -> QuizService:
    return QuizService(
        session,  # type: ignore[arg-type]
        OutboxService(session),  # type: ignore[arg-type]
        AuditService(session),  # type: ignore[arg-type]
        clock,
        HCM,
    )


async def schedule(database: Database, clock: Clock, unit_ids: list[int], **fields: object) -> int:
    values: dict[str, object] = {
        "title": "Tìm hiểu Điều lệ Đảng",
        "question_count": 3,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "pass_mark": 60,
        **fields,
    }
    async with database.session() as session, session.begin():
        quiz = await service(session, clock).schedule(
            unit_ids=unit_ids,
            actor="test",
            **values,  # type: ignore[arg-type]
        )
        return quiz.id


async def member_id(database: Database, card: str) -> int:
    async with database.session() as session:
        found = await session.scalar(select(Member.id).where(Member.card_number == card))
    assert found is not None
    return found


def answer_buttons(reply: Reply) -> list[str]:
    return [button.data for button in reply.flat_buttons]


async def right_shown(database: Database, data: str) -> int:
    """For the button data "quiz:a:<attempt>:<position>:<shown>", the index of the right
    choice as shown."""
    _, _, attempt_id, position, _ = data.split(":")
    async with database.session() as session:
        attempt = await session.get(QuizAttempt, int(attempt_id))
        assert attempt is not None
        row = await session.get(QuizQuestionRow, attempt.question_order[int(position)])
        assert row is not None
        return attempt.choice_orders[int(position)].index(row.answer)


async def pick(database: Database, reply: Reply, right: bool) -> str:
    """The button data of a right (or a wrong) answer to the question in `reply`."""
    buttons = answer_buttons(reply)
    correct = await right_shown(database, buttons[0])
    index = correct if right else (correct + 1) % len(buttons)
    return buttons[index]
