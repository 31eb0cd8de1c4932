"""Meetings and reminders with a controllable clock: sent once across restarts, the grace
period, the scheduler's wake time, answers counted once, other units kept out."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import MeetingReminder, MeetingResponse, OutboxMessage
from bot.services.meetings import Recurrence
from bot.settings import Settings
from bot.texts import text
from handlers.meetings import Attendance, Rsvp
from jobs.reminders import WAKE_JOB, ReminderScheduler
from tests.clock import Clock
from tests.harness import button, labels, say, services
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MEETING_AT = datetime(2026, 12, 4, 19, 30, tzinfo=HCM)


async def create_meeting(database: Database, clock: Clock, unit_id: int, **fields: object) -> int:
    async with database.session() as session, session.begin():
        service = services(session, clock).meetings
        values = {"starts_at": MEETING_AT, **fields}
        meeting = await service.create(
            unit_id,
            kind="regular",
            title="",
            place="Hội trường A",
            actor="test",
            agenda="Kiểm điểm cuối năm",
            **values,  # type: ignore[arg-type]
        )
        return meeting.id


async def reminders(database: Database) -> list[tuple[datetime, str]]:
    async with database.session() as session:
        rows = await session.execute(
            select(MeetingReminder.due_at, MeetingReminder.status).order_by(MeetingReminder.due_at)
        )
        return [(due.astimezone(HCM), status) for due, status in rows]


async def outbox_chats(database: Database, kind: str) -> list[tuple[str | None, str]]:
    async with database.session() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.status).where(OutboxMessage.kind == kind)
        )
    # Members not linked (no chat) last, on every database.
    return sorted(((chat, status) for chat, status in rows), key=lambda r: r[0] or "~")


def scheduler(database: Database, settings: Settings, clock: Clock) -> ReminderScheduler:
    return ReminderScheduler(database, settings, clock=clock)


async def test_reminders_are_planned_three_days_and_two_hours_before(
    database: Database, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    assert await reminders(database) == [
        (datetime(2026, 12, 1, 19, 30, tzinfo=HCM), "pending"),
        (datetime(2026, 12, 4, 17, 30, tzinfo=HCM), "pending"),
    ]


async def test_a_reminder_missed_while_down_is_sent_once_after_start(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    clock.set(datetime(2026, 12, 1, 21, 0, tzinfo=HCM))  # down at 19:30; back 90 min later
    assert await scheduler(database, settings, clock).run_due() == 1
    sent = await outbox_chats(database, "reminder")
    assert sent == [(SECRETARY, "pending"), (MEMBER, "pending"), (None, "skipped")]
    # Started again (a second restart): nothing is sent twice.
    assert await scheduler(database, settings, clock).run_due() == 0
    assert await outbox_chats(database, "reminder") == sent
    async with database.session() as session:
        payload = await session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.chat_id == MEMBER)
        )
    assert payload is not None
    assert payload["text"].startswith(
        "🔔 Nhắc lịch: Sinh hoạt chi bộ thường kỳ\n⏰ 19:30 thứ Sáu, 04/12/2026"
    )
    assert [b[0] for row in payload["buttons"] for b in row] == ["Tham dự", "Vắng"]


async def test_a_reminder_later_than_the_grace_period_is_skipped_with_a_log_line(
    database: Database,
    settings: Settings,
    clock: Clock,
    units: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    clock.set(datetime(2026, 12, 4, 18, 0, tzinfo=HCM))
    with caplog.at_level(logging.WARNING):
        assert await scheduler(database, settings, clock).run_due() == 1
    assert [status for _, status in await reminders(database)] == ["skipped", "sent"]
    assert "beyond the grace period" in caplog.text


async def test_the_scheduler_wakes_at_the_next_due_reminder(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    worker = scheduler(database, settings, clock)
    await worker.start()
    try:
        job = worker._scheduler.get_job(WAKE_JOB)
        assert job is not None
        assert job.next_run_time == datetime(2026, 12, 1, 19, 30, tzinfo=HCM)
    finally:
        worker.stop()


async def test_monthly_meetings_on_the_31st_fall_back_to_the_last_day(
    database: Database, clock: Clock, units: dict[str, int]
) -> None:
    clock.set(datetime(2027, 1, 25, 10, 0, tzinfo=HCM))
    rule = Recurrence.monthly_day(31, time(19, 0), starts=datetime(2027, 1, 1).date())
    await create_meeting(
        database, clock, units["Chi bộ Văn phòng"], starts_at=None, recurrence=rule, offsets=[120]
    )
    assert [due for due, _ in await reminders(database)] == [
        datetime(2027, 1, 31, 17, 0, tzinfo=HCM),
        datetime(2027, 2, 28, 17, 0, tzinfo=HCM),
    ]


async def test_answers_count_once_and_other_units_cannot_answer(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    attend = Rsvp(meeting, MEETING_AT, Attendance.ATTEND).pack()
    (first,) = await say(chat, MEMBER, button=attend)
    (second,) = await say(chat, MEMBER, button=attend)
    assert (
        first.text
        == second.text
        == text(
            "meetings.attend_recorded",
            title="Sinh hoạt chi bộ thường kỳ",
            when="19:30 thứ Sáu, 04/12/2026",
        )
    )
    (ask,) = await say(chat, SECRETARY, button=Rsvp(meeting, MEETING_AT, Attendance.ABSENT).pack())
    assert ask.text == text("meetings.ask_reason")
    (done,) = await say(chat, SECRETARY, "Đi công tác tỉnh ngoài")
    assert done.text.endswith("lý do: Đi công tác tỉnh ngoài.")
    (outsider,) = await say(chat, SIBLING, button=attend)
    assert outsider.text == text("meetings.not_your_meeting")
    async with database.session() as session:
        rows = (await session.execute(select(MeetingResponse.answer, MeetingResponse.reason))).all()
    assert sorted(rows, key=str) == sorted(
        [("attend", None), ("absent", "Đi công tác tỉnh ngoài")], key=str
    )


async def test_cancelling_after_a_reminder_tells_the_members(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    clock.set(datetime(2026, 12, 1, 19, 31, tzinfo=HCM))
    await scheduler(database, settings, clock).run_due()
    async with database.session() as session, session.begin():
        service = services(session, clock).meetings
        assert await service.cancel(meeting, actor="test", reason="trùng lịch tiếp dân") == 3
    notices = await outbox_chats(database, "meeting_change")
    assert notices == [(SECRETARY, "pending"), (MEMBER, "pending"), (None, "skipped")]
    assert [s for _, s in await reminders(database)] == ["sent", "skipped"]
    clock.now += timedelta(days=3)
    assert await scheduler(database, settings, clock).run_due() == 0


async def test_upcoming_meetings_of_my_unit_only(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    (mine,) = await say(chat, MEMBER, "/lichhop")
    assert mine.text == "\n".join(
        [
            text("meetings.upcoming_title", unit="Chi bộ Văn phòng"),
            "• 19:30 thứ Sáu, 04/12/2026: Sinh hoạt chi bộ thường kỳ — Hội trường A",
        ]
    )
    (theirs,) = await say(chat, SIBLING, "/lichhop")
    assert theirs.text == text("meetings.upcoming_none", unit="Chi bộ Sở Tư pháp", days=60)


async def test_upcoming_meetings_are_answered_right_there(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    (listed,) = await say(chat, MEMBER, "/lichhop")
    assert labels(listed) == ["Tham dự · 19:30 04/12", "Vắng · 19:30 04/12"]
    # The reminder's own buttons: the same answers, recorded the same way.
    assert [b.data for b in listed.flat_buttons] == [
        Rsvp(meeting, MEETING_AT, Attendance.ATTEND).pack(),
        Rsvp(meeting, MEETING_AT, Attendance.ABSENT).pack(),
    ]
    (absent,) = await say(chat, MEMBER, button=button(listed, "Vắng · 19:30 04/12"))
    assert absent.text == text("meetings.ask_reason")
    (recorded,) = await say(chat, MEMBER, "Đi công tác")
    assert recorded.text.startswith("Đã ghi nhận")
    (overview,) = await say(chat, SECRETARY, "/lichhop")
    assert "   – Vắng: Lê Minh Châu (Đi công tác)" in overview.text.splitlines()


async def test_a_meeting_months_ahead_gets_reminders_when_the_horizon_reaches_it(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    far = datetime(2027, 3, 5, 19, 30, tzinfo=HCM)
    await create_meeting(database, clock, units["Chi bộ Văn phòng"], starts_at=far)
    assert await reminders(database) == []  # beyond the 45-day horizon
    clock.set(datetime(2027, 2, 1, 9, 0, tzinfo=HCM))
    await scheduler(database, settings, clock).run_due()
    assert [due for due, _ in await reminders(database)] == [
        datetime(2027, 3, 2, 19, 30, tzinfo=HCM),
        datetime(2027, 3, 5, 17, 30, tzinfo=HCM),
    ]


async def test_the_secretary_sees_who_answered_what_and_members_do_not(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    meeting = await create_meeting(database, clock, units["Chi bộ Văn phòng"])
    await say(chat, MEMBER, button=Rsvp(meeting, MEETING_AT, Attendance.ABSENT).pack())
    await say(chat, MEMBER, "Ốm")
    await say(chat, SECRETARY, button=Rsvp(meeting, MEETING_AT, Attendance.ATTEND).pack())
    (overview,) = await say(chat, SECRETARY, "/lichhop")
    assert overview.text.splitlines()[1:] == [
        "• 19:30 thứ Sáu, 04/12/2026: Sinh hoạt chi bộ thường kỳ — Hội trường A",
        "   Tham dự 1 · Vắng 1 · Chưa trả lời 1",
        "   – Vắng: Lê Minh Châu (Ốm)",
    ]
    (plain,) = await say(chat, MEMBER, "/lichhop")
    assert "Tham dự" not in plain.text and "Ốm" not in plain.text


async def test_the_reminder_carries_the_meeting_document(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(
        database, clock, units["Chi bộ Văn phòng"], document="https://example.vn/du-thao.pdf"
    )
    clock.set(datetime(2026, 12, 1, 19, 45, tzinfo=HCM))
    assert await scheduler(database, settings, clock).run_due() == 1
    async with database.session() as session:
        payload = await session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.chat_id == MEMBER)
        )
    assert payload is not None
    assert (
        "📝 Nội dung: Kiểm điểm cuối năm\n📎 Tài liệu: https://example.vn/du-thao.pdf"
        in (payload["text"])
    )
