"""Attendance in chat with a controllable clock: /diemdanh prefilled from the answers and
saved, /chuyencan for a member and for a secretary with the three-month flag, and members
of another unit kept out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Reply
from bot.models import AuditEntry, MeetingResponse, Member
from bot.services.meetings import Recurrence
from bot.texts import text
from handlers.meetings import Attendance, Rsvp
from tests.clock import Clock
from tests.harness import button, labels, say, services
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING
from tests.test_meeting_reminders import HCM, MEETING_AT, create_meeting

OFFICE = "Chi bộ Văn phòng"
AN, BINH, CHAU = "Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu"
TITLE = "Sinh hoạt chi bộ thường kỳ"


async def member_ids(database: Database) -> dict[str, int]:
    async with database.session() as session:
        rows = await session.execute(select(Member.full_name, Member.id))
        return {name: member_id for name, member_id in rows}


async def marks(database: Database) -> dict[int, tuple[str | None, bool | None]]:
    """Each member's (answer, attended)."""
    async with database.session() as session:
        rows = await session.execute(
            select(MeetingResponse.member_id, MeetingResponse.answer, MeetingResponse.attended)
        )
        return {member_id: (answer, attended) for member_id, answer, attended in rows}


async def open_checklist(chat: ChatCore, meeting: int) -> Reply:
    (menu,) = await say(chat, SECRETARY, "/diemdanh")
    assert menu.text == text("attendance.choose_occurrence")
    assert [b.data for row in menu.buttons for b in row] == [
        f"att:{meeting}:{int(MEETING_AT.timestamp())}"
    ]
    (checklist,) = await say(chat, SECRETARY, button=menu.buttons[0][0].data)
    return checklist


async def test_the_checklist_is_prefilled_from_the_answers_and_saved(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units[OFFICE])
    await say(chat, MEMBER, button=Rsvp(meeting, MEETING_AT, Attendance.ATTEND).pack())
    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=HCM))
    checklist = await open_checklist(chat, meeting)
    assert checklist.text.startswith(
        text(
            "attendance.checklist",
            title=TITLE,
            when="19:30 thứ Sáu, 04/12/2026",
            present=1,
            total=3,
        ).partition("\n")[0]
    )
    assert labels(checklist) == [f"☑ {CHAU}", f"☐ {AN}", f"☐ {BINH}", "Lưu", "Hủy"]
    (toggled,) = await say(chat, SECRETARY, button=button(checklist, f"☐ {BINH}"))
    assert labels(toggled)[:3] == [f"☑ {CHAU}", f"☐ {AN}", f"☑ {BINH}"]
    (saved,) = await say(chat, SECRETARY, button="atts:save")
    assert saved.text == text(
        "attendance.saved", title=TITLE, when="19:30 thứ Sáu, 04/12/2026", present=2, total=3
    )
    ids = await member_ids(database)
    assert await marks(database) == {
        ids[CHAU]: ("attend", True),
        ids[BINH]: (None, True),
        ids[AN]: (None, False),
    }
    async with database.session() as session:
        assert await session.scalar(
            select(AuditEntry.target).where(AuditEntry.action == "attendance.save")
        ) == (f"meeting:{meeting}")
    # Marked again: the saved marks, not the answers, are what the checklist shows.
    checklist = await open_checklist(chat, meeting)
    assert labels(checklist)[:3] == [f"☑ {CHAU}", f"☐ {AN}", f"☑ {BINH}"]


async def test_only_meetings_of_the_last_two_weeks_are_offered(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units[OFFICE])
    (before,) = await say(chat, SECRETARY, "/diemdanh")
    assert before.text == text("attendance.no_recent")
    clock.set(datetime(2026, 12, 19, 9, 0, tzinfo=HCM))
    (late,) = await say(chat, SECRETARY, "/diemdanh")
    assert late.text == text("attendance.no_recent")
    forged = f"att:{meeting}:{int(MEETING_AT.timestamp())}"
    (refused,) = await say(chat, SECRETARY, button=forged)
    assert refused.text == text("attendance.not_recent")


async def test_another_unit_can_neither_see_nor_mark(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units[OFFICE])
    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=HCM))
    (theirs,) = await say(chat, SIBLING, "/diemdanh")
    assert theirs.text == text("attendance.no_recent")
    forged = f"att:{meeting}:{int(MEETING_AT.timestamp())}"
    (refused,) = await say(chat, SIBLING, button=forged)
    assert refused.text == text("secretary.not_allowed")
    (stale,) = await say(chat, SIBLING, button="atts:save")
    assert stale.text == text("fallback.stale_button")
    (member,) = await say(chat, MEMBER, "/diemdanh")
    assert member.text == text("secretary.not_allowed")
    # A member of another unit slipped into the secretary's checklist is refused.
    await open_checklist(chat, meeting)
    outsider = (await member_ids(database))["Phạm Quốc Dũng"]
    (slipped,) = await say(chat, SECRETARY, button=f"attm:{outsider}")
    assert slipped.text == text("fallback.stale_button")
    await say(chat, SECRETARY, button="atts:save")
    assert outsider not in await marks(database)
    record = "\n".join(r.text for r in await say(chat, SIBLING, "/chuyencan"))
    assert AN not in record and "Phạm Quốc Dũng" in record


# The year's meetings and each member's mark: (attended, reason) or None for not marked.
YEAR_DAYS = [(2, 5), (3, 5), (4, 5), (5, 5), (5, 20)]
HELD = [datetime(2025, month, day, 19, 30, tzinfo=HCM) for month, day in YEAR_DAYS]
MARKS: dict[str, list[tuple[bool, str | None] | None]] = {
    CHAU: [(False, None), (False, ""), (False, "Ốm"), (False, None), (False, None)],
    AN: [(True, None), (True, None), None, (True, None), (True, None)],
    BINH: [(False, None), (False, None), (True, None), (False, "Công tác"), None],
}


async def seed_year(database: Database, clock: Clock, unit_id: int) -> list[int]:
    """One-off meetings of the unit in 2025 and the marks above; the clock is left in June."""
    clock.set(datetime(2025, 1, 1, 8, 0, tzinfo=HCM))
    meetings = [await create_meeting(database, clock, unit_id, starts_at=at) for at in HELD]
    ids = await member_ids(database)
    async with database.session() as session, session.begin():
        for name, row in MARKS.items():
            for meeting, at, mark in zip(meetings, HELD, row, strict=True):
                if mark is not None:
                    session.add(
                        MeetingResponse(
                            meeting_id=meeting,
                            occurrence_at=at.astimezone(UTC),
                            member_id=ids[name],
                            attended=mark[0],
                            reason=mark[1],
                        )
                    )
    clock.set(datetime(2025, 6, 1, 8, 0, tzinfo=HCM))
    return meetings


async def test_a_member_sees_their_own_record(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await seed_year(database, clock, units[OFFICE])
    (own,) = await say(chat, MEMBER, "/chuyencan")
    assert own.text == "\n".join(
        [
            text(
                "attendance.own_title",
                year=2025,
                name=CHAU,
                held=5,
                attended=0,
                excused=1,
                unexcused=4,
                unmarked=0,
            ),
            text("attendance.own_months", months="02, 03, 05"),
        ]
    )


async def test_a_secretary_also_sees_the_unit_with_the_three_month_flag(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await seed_year(database, clock, units[OFFICE])
    own, summary = await say(chat, SECRETARY, "/chuyencan")
    assert own.text.startswith(f"Chuyên cần năm 2025 của đồng chí {AN} (5 buổi")
    lines = summary.text.split("\n")
    assert lines[0] == text("attendance.summary_title", year=2025, unit=OFFICE, held=5)
    chau = text(
        "attendance.summary_line", name=CHAU, attended=0, excused=1, unexcused=4, unmarked=0
    )
    binh = text(
        "attendance.summary_line", name=BINH, attended=1, excused=1, unexcused=2, unmarked=1
    )
    an = text("attendance.summary_line", name=AN, attended=4, excused=0, unexcused=0, unmarked=1)
    assert lines[1:] == [
        chau + text("attendance.summary_flag", months="02, 03, 05"),
        an,
        binh,
        text("attendance.summary_rule", months=3),
    ]


async def test_a_cancelled_series_keeps_the_meetings_it_held(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    clock.set(datetime(2025, 1, 1, 8, 0, tzinfo=HCM))
    rule = Recurrence.monthly_day(5, time(19, 30), starts=date(2025, 1, 1))
    meeting = await create_meeting(database, clock, units[OFFICE], starts_at=None, recurrence=rule)
    clock.set(datetime(2025, 3, 10, 8, 0, tzinfo=HCM))
    async with database.session() as session, session.begin():
        service = services(session, clock).meetings
        await service.cancel(meeting, actor="test")
    clock.set(datetime(2025, 6, 1, 8, 0, tzinfo=HCM))
    (own,) = await say(chat, MEMBER, "/chuyencan")
    assert own.text == text(
        "attendance.own_title",
        year=2025,
        name=CHAU,
        held=3,
        attended=0,
        excused=0,
        unexcused=0,
        unmarked=3,
    )
