"""/hopthu: a member's unanswered question reaches their own secretaries, whose answer goes
back through the outbox."""

from __future__ import annotations

from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import AuditEntry, CommitteeQuestion, OutboxMessage
from bot.texts import text
from tests.harness import say
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING

QUESTION = "Năm nay xã mình có tổ chức giải bóng đá cho đảng viên trẻ không?"


async def _ask_committee(core: ChatCore) -> None:
    (not_found,) = await say(core, MEMBER, QUESTION)
    assert not_found.text == text("handbook.not_found")
    send = next(b for b in not_found.flat_buttons if b.data.startswith("ask:"))
    (sent,) = await say(core, MEMBER, button=send.data)
    assert sent.text == text("handbook.sent")


async def test_the_right_secretary_answers_and_the_member_is_told(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    await _ask_committee(core)
    async with database.session() as session:
        question = await session.scalar(select(CommitteeQuestion))
    assert question is not None
    (listing,) = await say(core, SECRETARY, "/hopthu")
    assert listing.text.splitlines()[0] == text("inbox.title")
    assert question.question in listing.text
    assert [b.data for b in listing.flat_buttons] == [f"inbox:{question.id}"]
    (prompt,) = await say(core, SECRETARY, button=f"inbox:{question.id}")
    assert prompt.text.startswith(f"Đồng chí nhập câu trả lời cho câu hỏi #{question.id}")
    (done,) = await say(core, SECRETARY, "Được, theo hướng dẫn của cấp ủy cấp trên.")
    assert done.text == text("inbox.sent", id=question.id)
    async with database.session() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "answer"))
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert row is not None and row.chat_id == MEMBER and row.status == "pending"
    assert row.payload["text"] == text(
        "inbox.to_member",
        question=question.question,
        answer="Được, theo hướng dẫn của cấp ủy cấp trên.",
    )
    assert "question.answer" in actions
    (empty,) = await say(core, SECRETARY, "/hopthu")
    assert empty.text == text("inbox.empty")


async def test_other_units_and_members_cannot_see_or_answer(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    await _ask_committee(core)
    async with database.session() as session:
        question_id = await session.scalar(select(CommitteeQuestion.id))
    (sibling,) = await say(core, SIBLING, "/hopthu")
    assert sibling.text == text("inbox.empty")
    (forged,) = await say(core, SIBLING, button=f"inbox:{question_id}")
    assert forged.text == text("secretary.not_allowed")
    (member,) = await say(core, MEMBER, "/hopthu")
    assert member.text == text("secretary.not_allowed")
