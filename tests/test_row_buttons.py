"""Buttons that name a row are checked against who presses them: ids are sequential, and
button data comes back from the member's device. A press naming another member's logged
question («Gửi câu hỏi», 👍/👎) gets the stale-button answer and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Reply
from bot.models import CommitteeQuestion, HandbookQuery, MeetingResponse
from bot.texts import text
from handlers.meetings import Attendance, Rsvp
from tests.harness import say, services
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING

UNANSWERABLE = "xin cho biết lịch tiếp dân của ủy ban xã tháng này"
ANSWERED = "đảng phí bao nhiêu"
STALE = text("fallback.stale_button")


def data_of(reply: Reply, prefix: str) -> str:
    (data,) = [b.data for b in reply.flat_buttons if b.data.startswith(prefix)]
    return data


async def committee_questions(database: Database) -> list[tuple[int, str]]:
    async with database.session() as session:
        rows = await session.execute(
            select(CommitteeQuestion.organisation_id, CommitteeQuestion.question)
        )
        return [(unit, question) for unit, question in rows]


async def votes(database: Database) -> list[bool | None]:
    async with database.session() as session:
        return list(await session.scalars(select(HandbookQuery.helpful).order_by(HandbookQuery.id)))


async def test_another_units_question_cannot_be_pulled_into_ones_inbox(
    database: Database, core: ChatCore, units: dict[str, int]
) -> None:
    (not_found,) = await say(core, SIBLING, UNANSWERABLE)
    theirs = data_of(not_found, "ask:")
    async with database.session() as session:
        query_id = await session.scalar(select(func.max(HandbookQuery.id)))
    # The data the sibling's secretary got, and the bare id a forger would type.
    for forged in (theirs, f"ask:{query_id}"):
        (refused,) = await say(core, SECRETARY, button=forged)
        assert refused.text == STALE
    assert await committee_questions(database) == []
    (sent,) = await say(core, SIBLING, button=theirs)
    assert sent.text == text("handbook.sent")
    assert await committee_questions(database) == [(units["Chi bộ Sở Tư pháp"], UNANSWERABLE)]


async def test_someone_elses_vote_cannot_be_rewritten(
    database: Database, core: ChatCore, units: dict[str, int]
) -> None:
    (answer,) = await say(core, MEMBER, ANSWERED)
    up, down = data_of(answer, "fb:up:"), data_of(answer, "fb:down:")
    async with database.session() as session:
        query_id = await session.scalar(select(func.max(HandbookQuery.id)))
    for forged in (down, f"fb:down:{query_id}", up.replace(str(query_id), str(query_id + 1))):
        (refused,) = await say(core, SECRETARY, button=forged)
        assert refused.text == STALE
    assert await votes(database) == [None]
    (thanks,) = await say(core, MEMBER, button=up)
    assert thanks.text == text("handbook.thanks_up")
    assert await votes(database) == [True]


async def test_an_answer_for_a_time_the_meeting_is_not_held_records_nothing(
    database: Database, core: ChatCore, units: dict[str, int]
) -> None:
    held = datetime(2026, 12, 4, 19, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    async with database.session() as session, session.begin():
        meeting = await services(session).meetings.create(
            units["Chi bộ Văn phòng"],
            kind="regular",
            title="",
            place="Hội trường",
            actor="test",
            starts_at=held,
        )
    forged = Rsvp(meeting.id, held + timedelta(hours=1), Attendance.ATTEND).pack()
    (refused,) = await say(core, MEMBER, button=forged)
    assert refused.text == text("meetings.meeting_gone")
    (other_unit,) = await say(
        core, SIBLING, button=Rsvp(meeting.id, held, Attendance.ATTEND).pack()
    )
    assert other_unit.text == text("meetings.not_your_meeting")
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(MeetingResponse)) == 0
