"""Secretaries and trainers set up, cancel and change meetings in chat (/taohop, /taphuan,
/huyhop, /suahop), through the chat core with a controllable clock."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.models import (
    ChannelAccount,
    ConversationState,
    Meeting,
    MeetingReminder,
    OutboxMessage,
)
from bot.services.meetings import Recurrence
from bot.settings import Settings
from bot.texts import text
from jobs.reminders import ReminderScheduler
from tests.clock import Clock
from tests.harness import button, grant, labels, say, services, unit_id
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE, JUSTICE, EAST = "Chi bộ Văn phòng", "Chi bộ Sở Tư pháp", "Chi bộ thôn Đông"
COMMITTEE = "Đảng bộ Khối các cơ quan và doanh nghiệp"
FRIDAY = datetime(2026, 12, 4, 19, 30, tzinfo=HCM)


def t(key: str, **values: object) -> str:
    return text(f"meeting_setup.{key}", **values)


async def flow_of(database: Database, card: str) -> str | None:
    async with database.session() as session:
        return await session.scalar(
            select(ConversationState.flow)
            .join(ChannelAccount, ChannelAccount.id == ConversationState.account_id)
            .where(ChannelAccount.external_id == card)
        )


async def stored_meetings(database: Database) -> list[Meeting]:
    async with database.session() as session:
        return list(await session.scalars(select(Meeting).order_by(Meeting.organisation_id)))


async def reminders(database: Database) -> list[tuple[datetime, str]]:
    async with database.session() as session:
        rows = await session.execute(
            select(MeetingReminder.due_at, MeetingReminder.status).order_by(MeetingReminder.due_at)
        )
        return [(due.astimezone(HCM), status) for due, status in rows]


async def reminder_occurrences(database: Database) -> list[datetime]:
    """The occurrences that have reminders planned or sent (skipped ones left out)."""
    async with database.session() as session:
        rows = await session.scalars(
            select(MeetingReminder.occurrence_at).where(MeetingReminder.status != "skipped")
        )
        return [at.astimezone(HCM) for at in rows]


async def notices(database: Database) -> list[tuple[str | None, str]]:
    """The meeting_change outbox rows: chat (None for members not linked) and text."""
    async with database.session() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.payload).where(
                OutboxMessage.kind == "meeting_change"
            )
        )
    return sorted(((chat, payload["text"]) for chat, payload in rows), key=lambda r: r[0] or "~")


async def create_meeting(database: Database, clock: Clock, unit: str, **fields: object) -> int:
    organisation = await unit_id(database, unit)
    async with database.session() as session, session.begin():
        service = services(session, clock).meetings
        values = {"starts_at": FRIDAY, **fields}
        meeting = await service.create(
            organisation,
            kind="regular",
            title="",
            place="Hội trường A",
            actor="test",
            **values,  # type: ignore[arg-type]
        )
        return meeting.id


async def send_due_reminders(database: Database, settings: Settings, clock: Clock) -> int:
    return await ReminderScheduler(database, settings, clock=clock).run_due()


async def set_up(
    chat: ChatCore,
    when: str,
    repeat: int = 0,
    agenda: str | None = "Kiểm điểm cuối năm",
    card: str = SECRETARY,
) -> tuple[Reply, Reply]:
    """/taohop through to the summary: a regular meeting at Hội trường A; `repeat` is the
    position of the repetition button. The repetition question and the summary."""
    (kinds,) = await say(chat, card, "/taohop")
    await say(chat, card, button=button(kinds, "Sinh hoạt thường kỳ"))
    (repeats,) = await say(chat, card, when)
    await say(chat, card, button=repeats.flat_buttons[repeat].data)
    (ask_agenda,) = await say(chat, card, "Hội trường A")
    if agenda is None:
        (ask_document,) = await say(chat, card, button=button(ask_agenda, "Bỏ qua"))
    else:
        (ask_document,) = await say(chat, card, agenda)
    (ask_remind,) = await say(chat, card, button=button(ask_document, "Bỏ qua"))
    (summary,) = await say(chat, card, button=button(ask_remind, t("remind_3d2h")))
    return repeats, summary


async def test_a_one_off_meeting_is_set_up_step_by_step(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    (kinds,) = await say(chat, SECRETARY, "/taohop")
    assert kinds.text == t("choose_kind", unit=OFFICE)
    assert labels(kinds) == ["Sinh hoạt thường kỳ", "Chuyên đề", "Tập huấn", "Khác"]
    (ask_when,) = await say(chat, SECRETARY, button=button(kinds, "Sinh hoạt thường kỳ"))
    assert ask_when.text == t("ask_when")
    (repeats,) = await say(chat, SECRETARY, "thứ 6 tuần sau 19h30")
    assert repeats.text == t("choose_repeat", when="19:30 thứ Sáu, 04/12/2026")
    assert labels(repeats) == [
        "Một lần",
        "Hằng tháng vào ngày 4",
        "Hằng tháng vào thứ Sáu tuần thứ 1",
    ]
    (ask_place,) = await say(chat, SECRETARY, button=button(repeats, "Một lần"))
    assert ask_place.text == t("ask_place")
    (ask_agenda,) = await say(chat, SECRETARY, "Hội trường A")
    assert (ask_agenda.text, labels(ask_agenda)) == (t("ask_agenda"), ["Bỏ qua"])
    (ask_document,) = await say(chat, SECRETARY, "Kiểm điểm cuối năm")
    assert (ask_document.text, labels(ask_document)) == (t("ask_document"), ["Bỏ qua"])
    (bad,) = await say(chat, SECRETARY, "tài liệu ở phòng")
    assert bad.text == t("bad_document")
    (ask_remind,) = await say(chat, SECRETARY, "https://example.vn/tai-lieu.pdf")
    assert ask_remind.text == t("ask_remind")
    assert labels(ask_remind) == [
        "3 ngày và 2 giờ (mặc định)",
        "1 ngày và 2 giờ",
        "1 tuần và 1 ngày",
        "Chỉ 2 giờ",
    ]
    (summary,) = await say(chat, SECRETARY, button=button(ask_remind, t("remind_3d2h")))
    expected = (
        f"🏛 {OFFICE}\n📌 Sinh hoạt chi bộ thường kỳ\n⏰ 19:30 thứ Sáu, 04/12/2026\n"
        "🔁 Một lần\n📍 Hội trường A\n📝 Kiểm điểm cuối năm\n"
        "📎 https://example.vn/tai-lieu.pdf\n"
        "🔔 Nhắc trước: 3 ngày và 2 giờ (mặc định)"
    )
    assert summary.text == t("confirm", summary=expected)
    assert labels(summary) == ["Lưu", "Hủy"]
    assert await stored_meetings(database) == []

    (saved,) = await say(chat, SECRETARY, button=button(summary, "Lưu"))
    assert saved.text == t(
        "saved",
        summary=expected,
        reminders=t("reminders", times="19:30 thứ Ba, 01/12/2026; 17:30 thứ Sáu, 04/12/2026"),
    )
    (meeting,) = await stored_meetings(database)
    assert (meeting.organisation_id, meeting.kind, meeting.place, meeting.agenda) == (
        units[OFFICE],
        "regular",
        "Hội trường A",
        "Kiểm điểm cuối năm",
    )
    assert (meeting.starts_at, meeting.recurrence) == (FRIDAY, None)
    assert meeting.document == "https://example.vn/tai-lieu.pdf"
    assert meeting.created_by.startswith("member:")
    assert await reminders(database) == [
        (datetime(2026, 12, 1, 19, 30, tzinfo=HCM), "pending"),
        (datetime(2026, 12, 4, 17, 30, tzinfo=HCM), "pending"),
    ]
    assert await flow_of(database, SECRETARY) is None


async def test_monthly_on_day_31_falls_back_to_the_last_day(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    clock.set(datetime(2027, 1, 25, 10, 0, tzinfo=HCM))
    repeats, summary = await set_up(chat, "31/1 19h", repeat=1, agenda=None)
    assert labels(repeats)[1] == "Hằng tháng vào ngày 31"
    assert (
        "🔁 Ngày 31 hằng tháng (tháng không có ngày 31 thì họp ngày cuối tháng), lúc 19:00\n"
        "📍 Hội trường A\n🔔 Nhắc trước: 3 ngày và 2 giờ (mặc định)\n\nBấm «Lưu»"
    ) in summary.text
    await say(chat, SECRETARY, button=button(summary, "Lưu"))
    (meeting,) = await stored_meetings(database)
    rule = Recurrence.monthly_day(31, time(19, 0), starts=date(2027, 1, 31))
    assert (meeting.starts_at, meeting.recurrence, meeting.agenda) == (None, rule.to_dict(), None)
    assert [due for due, _ in await reminders(database)] == [
        datetime(2027, 1, 28, 19, 0, tzinfo=HCM),
        datetime(2027, 1, 31, 17, 0, tzinfo=HCM),
        datetime(2027, 2, 25, 19, 0, tzinfo=HCM),
        datetime(2027, 2, 28, 17, 0, tzinfo=HCM),
    ]


async def test_monthly_on_the_second_friday(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    repeats, summary = await set_up(chat, "11/12 19h30", repeat=2)
    assert labels(repeats)[2] == "Hằng tháng vào thứ Sáu tuần thứ 2"
    assert "🔁 Thứ Sáu tuần thứ 2 hằng tháng, lúc 19:30\n" in summary.text
    (saved,) = await say(chat, SECRETARY, button=button(summary, "Lưu"))
    assert saved.text.endswith(
        "Bot sẽ nhắc các đảng viên lúc: 19:30 thứ Ba, 08/12/2026; 17:30 thứ Sáu, 11/12/2026; "
        "19:30 thứ Ba, 05/01/2027; 17:30 thứ Sáu, 08/01/2027."
    )
    (meeting,) = await stored_meetings(database)
    rule = Recurrence.monthly_weekday(4, 2, time(19, 30), starts=date(2026, 12, 11))
    assert meeting.recurrence == rule.to_dict()


async def test_the_last_week_is_offered_for_the_days_from_the_29th(
    chat: ChatCore, units: dict[str, int]
) -> None:
    (kinds,) = await say(chat, SECRETARY, "/taohop")
    await say(chat, SECRETARY, button=button(kinds, "Chuyên đề"))
    (repeats,) = await say(chat, SECRETARY, "29/12 8h")
    assert labels(repeats)[1:] == ["Hằng tháng vào ngày 29", "Hằng tháng vào thứ Ba tuần cuối"]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("thứ 6 tuần sau 19h30", "19:30 thứ Sáu, 04/12/2026"),
        ("5/12 lúc 7:30 sáng", "7:30 thứ Bảy, 05/12/2026"),
    ],
)
async def test_dates_are_read_as_people_type_them(
    chat: ChatCore, units: dict[str, int], typed: str, shown: str
) -> None:
    (kinds,) = await say(chat, SECRETARY, "/taohop")
    await say(chat, SECRETARY, button=button(kinds, "Sinh hoạt thường kỳ"))
    (repeats,) = await say(chat, SECRETARY, typed)
    assert repeats.text == t("choose_repeat", when=shown)


async def test_impossible_and_past_dates_are_explained_and_asked_again(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    (kinds,) = await say(chat, SECRETARY, "/taohop")
    await say(chat, SECRETARY, button=button(kinds, "Khác"))
    (impossible,) = await say(chat, SECRETARY, "31/2 19h")
    assert (impossible.text, impossible.buttons) == ("Ngày 31/2 không có thật.", ())
    (past,) = await say(chat, SECRETARY, "20/11/2026 19h")
    assert past.text == "Ngày 20/11/2026 đã qua."
    (earlier_today,) = await say(chat, SECRETARY, "hôm nay 8h")
    assert earlier_today.text == "8:00 thứ Tư, 25/11/2026 đã qua."
    (no_time,) = await say(chat, SECRETARY, "5/12")
    assert no_time.text.startswith("Còn thiếu giờ.")
    assert await flow_of(database, SECRETARY) == "meeting_setup"
    (repeats,) = await say(chat, SECRETARY, "5/12 19h")
    assert repeats.text == t("choose_repeat", when="19:00 thứ Bảy, 05/12/2026")


async def test_typing_where_a_button_is_expected_points_to_the_buttons(
    chat: ChatCore, units: dict[str, int]
) -> None:
    await say(chat, SECRETARY, "/taohop")
    (reply,) = await say(chat, SECRETARY, "thường kỳ")
    assert reply.text == t("use_buttons")


async def test_a_member_who_is_not_a_secretary_is_refused(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    for command in ("/taohop", "/huyhop", "/suahop"):
        (reply,) = await say(chat, MEMBER, command)
        assert reply.text == text("secretary.not_allowed")
    (reply,) = await say(chat, MEMBER, button="mt:kind:regular")
    assert reply.text == text("fallback.stale_button")
    (reply,) = await say(chat, SECRETARY, "/taphuan")
    assert reply.text == t("trainers_only")
    assert await flow_of(database, MEMBER) is None
    assert await stored_meetings(database) == []


async def test_a_secretary_of_two_units_chooses_and_cannot_forge_a_sibling(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    await grant(database, SECRETARY, "secretary", EAST)
    (choose,) = await say(chat, SECRETARY, "/taohop")
    assert choose.text == t("choose_unit")
    assert set(labels(choose)) == {EAST, OFFICE}
    (forged,) = await say(chat, SECRETARY, button=f"mt:unit:{units[JUSTICE]}")
    assert forged.text == text("secretary.not_allowed")
    (kinds,) = await say(chat, SECRETARY, button=button(choose, EAST))
    assert kinds.text == t("choose_kind", unit=EAST)
    await say(chat, SECRETARY, button=button(kinds, "Sinh hoạt thường kỳ"))
    (repeats,) = await say(chat, SECRETARY, "5/12 19h")
    await say(chat, SECRETARY, button=repeats.flat_buttons[0].data)
    (ask_agenda,) = await say(chat, SECRETARY, "Nhà văn hóa thôn")
    (ask_document,) = await say(chat, SECRETARY, button=button(ask_agenda, "Bỏ qua"))
    (ask_remind,) = await say(chat, SECRETARY, button=button(ask_document, "Bỏ qua"))
    (summary,) = await say(chat, SECRETARY, button=button(ask_remind, t("remind_2h")))
    await say(chat, SECRETARY, button=button(summary, "Lưu"))
    (meeting,) = await stored_meetings(database)
    assert meeting.organisation_id == await unit_id(database, EAST)
    assert meeting.reminder_offsets == [120]  # the reminder choice is kept per meeting


async def test_a_sibling_units_meeting_cannot_be_picked_by_a_forged_button(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    theirs = await create_meeting(database, clock, JUSTICE)
    await create_meeting(database, clock, OFFICE)
    await say(chat, SECRETARY, "/huyhop")
    (forged,) = await say(chat, SECRETARY, button=f"mt:pick:{theirs}:{int(FRIDAY.timestamp())}")
    assert forged.text == t("meeting_gone")
    assert [m.cancelled_at for m in await stored_meetings(database)] == [None, None]


async def test_cancelling_after_a_reminder_tells_that_units_members_only(
    database: Database, chat: ChatCore, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(database, clock, OFFICE)
    await create_meeting(database, clock, JUSTICE)
    clock.set(datetime(2026, 12, 1, 19, 31, tzinfo=HCM))
    assert await send_due_reminders(database, settings, clock) == 2

    (choose,) = await say(chat, SECRETARY, "/huyhop")
    assert choose.text == t("choose_meeting_cancel", unit=OFFICE)
    assert labels(choose) == ["19:30 thứ Sáu, 04/12/2026 · Sinh hoạt chi bộ thường kỳ", "Hủy"]
    (confirm,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
    assert confirm.text == t(
        "confirm_cancel",
        title="Sinh hoạt chi bộ thường kỳ",
        when="19:30 thứ Sáu, 04/12/2026",
        place="Hội trường A",
    )
    assert labels(confirm) == ["Hủy buổi họp", "Không hủy"]
    (ask_reason,) = await say(chat, SECRETARY, button=button(confirm, "Hủy buổi họp"))
    assert (ask_reason.text, labels(ask_reason)) == (t("ask_reason"), ["Bỏ qua"])
    (done,) = await say(chat, SECRETARY, "Trùng lịch tiếp dân")
    assert done.text == (
        "Đã hủy Sinh hoạt chi bộ thường kỳ lúc 19:30 thứ Sáu, 04/12/2026. " + t("notified", count=3)
    )
    notice = text(
        "meetings.cancelled_notice",
        title="Sinh hoạt chi bộ thường kỳ",
        when="19:30 thứ Sáu, 04/12/2026",
        reason=" Lý do: Trùng lịch tiếp dân",
    )
    assert await notices(database) == [(SECRETARY, notice), (MEMBER, notice), (None, notice)]
    office, justice = await stored_meetings(database)
    assert office.cancelled_at is not None and justice.cancelled_at is None
    statuses = sorted(status for _, status in await reminders(database))
    assert statuses == ["pending", "sent", "sent", "skipped"]


async def test_one_meeting_of_a_monthly_schedule_is_skipped(
    database: Database, chat: ChatCore, units: dict[str, int], clock: Clock
) -> None:
    rule = Recurrence.monthly_weekday(4, 2, time(19, 30), starts=date(2026, 12, 1))
    await create_meeting(database, clock, OFFICE, starts_at=None, recurrence=rule)
    (choose,) = await say(chat, SECRETARY, "/huyhop")
    assert labels(choose) == [
        "19:30 thứ Sáu, 11/12/2026 · Sinh hoạt chi bộ thường kỳ",
        "19:30 thứ Sáu, 08/01/2027 · Sinh hoạt chi bộ thường kỳ",
        "Hủy",
    ]
    (confirm,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
    assert confirm.text == t(
        "confirm_cancel_recurring",
        title="Sinh hoạt chi bộ thường kỳ",
        when="19:30 thứ Sáu, 11/12/2026",
        place="Hội trường A",
        repeat="Thứ Sáu tuần thứ 2 hằng tháng, lúc 19:30",
    )
    assert labels(confirm) == ["Chỉ buổi này", "Cả lịch", "Không hủy"]
    (ask_reason,) = await say(chat, SECRETARY, button=button(confirm, "Chỉ buổi này"))
    (done,) = await say(chat, SECRETARY, button=button(ask_reason, "Bỏ qua"))
    assert done.text == (
        "Đã bỏ buổi Sinh hoạt chi bộ thường kỳ lúc 19:30 thứ Sáu, 11/12/2026; "
        "các buổi khác theo lịch vẫn giữ nguyên. " + t("notified_none")
    )
    (meeting,) = await stored_meetings(database)
    assert meeting.cancelled_at is None
    assert meeting.recurrence == rule.skip(date(2026, 12, 11)).to_dict()
    assert await reminders(database) == [
        (datetime(2026, 12, 8, 19, 30, tzinfo=HCM), "skipped"),
        (datetime(2026, 12, 11, 17, 30, tzinfo=HCM), "skipped"),
        (datetime(2027, 1, 5, 19, 30, tzinfo=HCM), "pending"),
        (datetime(2027, 1, 8, 17, 30, tzinfo=HCM), "pending"),
    ]
    (coming,) = await say(chat, MEMBER, "/lichhop")
    assert "11/12/2026" not in coming.text and "08/01/2027" in coming.text
    assert await notices(database) == []


async def test_a_whole_monthly_schedule_is_cancelled(
    database: Database, chat: ChatCore, units: dict[str, int], clock: Clock
) -> None:
    rule = Recurrence.monthly_day(15, time(8, 0), starts=date(2026, 12, 1))
    await create_meeting(database, clock, OFFICE, starts_at=None, recurrence=rule)
    (choose,) = await say(chat, SECRETARY, "/huyhop")
    (confirm,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
    (ask_reason,) = await say(chat, SECRETARY, button=button(confirm, "Cả lịch"))
    (done,) = await say(chat, SECRETARY, button=button(ask_reason, "Bỏ qua"))
    assert done.text == (
        "Đã hủy cả lịch Sinh hoạt chi bộ thường kỳ: Ngày 15 hằng tháng, lúc 8:00. "
        + t("notified_none")
    )
    (meeting,) = await stored_meetings(database)
    assert meeting.cancelled_at is not None
    assert {status for _, status in await reminders(database)} == {"skipped"}


async def test_a_new_time_tells_reminded_members_and_plans_reminders_again(
    database: Database, chat: ChatCore, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    meeting_id = await create_meeting(database, clock, OFFICE)
    await create_meeting(database, clock, JUSTICE)
    clock.set(datetime(2026, 12, 1, 19, 31, tzinfo=HCM))
    await send_due_reminders(database, settings, clock)

    (choose,) = await say(chat, SECRETARY, "/suahop")
    assert choose.text == t("choose_meeting_edit", unit=OFFICE)
    (fields,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
    assert labels(fields) == ["Đổi giờ", "Đổi địa điểm", "Đổi nội dung", "Hủy"]
    (ask,) = await say(chat, SECRETARY, button=button(fields, "Đổi giờ"))
    assert ask.text == t("ask_new_time")
    (past,) = await say(chat, SECRETARY, "1/12/2026 8h")
    assert past.text == "8:00 thứ Ba, 01/12/2026 đã qua."
    (confirm,) = await say(chat, SECRETARY, "thứ 7 tuần này 8h")
    assert confirm.text == t(
        "confirm_change",
        title="Sinh hoạt chi bộ thường kỳ",
        when="19:30 thứ Sáu, 04/12/2026",
        change="⏰ Giờ mới: 8:00 thứ Bảy, 05/12/2026",
    )
    (done,) = await say(chat, SECRETARY, button=button(confirm, "Lưu"))
    assert done.text == "\n".join(
        [
            "Đã sửa Sinh hoạt chi bộ thường kỳ: ⏰ Giờ mới: 8:00 thứ Bảy, 05/12/2026",
            t("notified", count=3),
            t("reminders", times="8:00 thứ Tư, 02/12/2026; 6:00 thứ Bảy, 05/12/2026"),
        ]
    )
    notice = text(
        "meetings.changed_notice",
        title="Sinh hoạt chi bộ thường kỳ",
        when="8:00 thứ Bảy, 05/12/2026",
        place="Hội trường A",
    )
    assert await notices(database) == [(SECRETARY, notice), (MEMBER, notice), (None, notice)]
    office = next(m for m in await stored_meetings(database) if m.id == meeting_id)
    assert office.starts_at == datetime(2026, 12, 5, 8, 0, tzinfo=HCM)
    async with database.session() as session:
        rows = await session.execute(
            select(MeetingReminder.due_at, MeetingReminder.status)
            .where(MeetingReminder.meeting_id == meeting_id)
            .order_by(MeetingReminder.due_at)
        )
        office_reminders = [(due.astimezone(HCM), status) for due, status in rows]
    assert office_reminders == [
        (datetime(2026, 12, 1, 19, 30, tzinfo=HCM), "sent"),
        (datetime(2026, 12, 2, 8, 0, tzinfo=HCM), "pending"),
        (datetime(2026, 12, 5, 6, 0, tzinfo=HCM), "pending"),
    ]


async def test_a_new_place_and_agenda_are_saved(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int]
) -> None:
    await create_meeting(database, clock, OFFICE)
    for field, typed in (("Đổi địa điểm", "Phòng họp số 2"), ("Đổi nội dung", "Tổng kết năm")):
        (choose,) = await say(chat, SECRETARY, "/suahop")
        (fields,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
        await say(chat, SECRETARY, button=button(fields, field))
        (confirm,) = await say(chat, SECRETARY, typed)
        (done,) = await say(chat, SECRETARY, button=button(confirm, "Lưu"))
        assert typed in done.text
    assert done.text == "Đã sửa Sinh hoạt chi bộ thường kỳ: 📝 Nội dung mới: Tổng kết năm"
    (meeting,) = await stored_meetings(database)
    assert (meeting.place, meeting.agenda, meeting.starts_at) == (
        "Phòng họp số 2",
        "Tổng kết năm",
        FRIDAY,
    )
    assert await notices(database) == []


async def test_a_trainer_sets_up_training_for_two_units_within_the_grant(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    await grant(database, MEMBER, "trainer", COMMITTEE)
    (menu,) = await say(chat, MEMBER, "/taphuan")
    assert menu.text == t("choose_units")
    assert labels(menu) == [f"☐ {COMMITTEE}", f"☐ {JUSTICE}", f"☐ {OFFICE}", "Tiếp tục", "Hủy"]
    (forged,) = await say(chat, MEMBER, button=f"mt:unit:{await unit_id(database, EAST)}")
    assert forged.text == t("trainers_only")
    nothing, menu = await say(chat, MEMBER, button=button(menu, "Tiếp tục"))
    assert nothing.text == t("no_units") and menu.text == t("choose_units")
    await say(chat, MEMBER, button=button(menu, f"☐ {OFFICE}"))
    (menu,) = await say(chat, MEMBER, button=button(menu, f"☐ {JUSTICE}"))
    assert labels(menu)[:3] == [f"☐ {COMMITTEE}", f"☑ {JUSTICE}", f"☑ {OFFICE}"]
    (ask_when,) = await say(chat, MEMBER, button=button(menu, "Tiếp tục"))
    assert ask_when.text == t("ask_when")
    (repeats,) = await say(chat, MEMBER, "5/12 lúc 7:30 sáng")
    await say(chat, MEMBER, button=button(repeats, "Một lần"))
    await say(chat, MEMBER, "Hội trường Đảng ủy Khối")
    (ask_document,) = await say(chat, MEMBER, "Nghị quyết Đại hội")
    (ask_remind,) = await say(chat, MEMBER, button=button(ask_document, "Bỏ qua"))
    (summary,) = await say(chat, MEMBER, button=button(ask_remind, t("remind_1w1d")))
    assert summary.text.startswith(
        f"Đồng chí kiểm tra lại lịch họp:\n\n🏛 {JUSTICE}, {OFFICE}\n📌 Tập huấn\n"
    )
    (saved,) = await say(chat, MEMBER, button=button(summary, "Lưu"))
    assert saved.text.startswith("Đã lưu lịch tập huấn cho 2 đơn vị.")
    stored = await stored_meetings(database)
    assert sorted(m.organisation_id for m in stored) == sorted([units[OFFICE], units[JUSTICE]])
    assert {(m.kind, m.place, m.agenda, m.starts_at) for m in stored} == {
        (
            "training",
            "Hội trường Đảng ủy Khối",
            "Nghị quyết Đại hội",
            datetime(2026, 12, 5, 7, 30, tzinfo=HCM),
        )
    }
    assert len(await reminders(database)) == 4


@pytest.mark.parametrize("command", ["/taohop", "/taphuan", "/huyhop", "/suahop"])
async def test_cancel_leaves_each_flow(
    database: Database, chat: ChatCore, clock: Clock, units: dict[str, int], command: str
) -> None:
    await grant(database, SECRETARY, "trainer", OFFICE)
    await create_meeting(database, clock, OFFICE)
    await say(chat, SECRETARY, command)
    assert await flow_of(database, SECRETARY) == "meeting_setup"
    (done,) = await say(chat, SECRETARY, "/cancel")
    assert done.text == text("cancel.done")
    assert await flow_of(database, SECRETARY) is None
    (stale,) = await say(chat, SECRETARY, button="mt:save")
    assert stale.text == text("fallback.stale_button")
    assert len(await stored_meetings(database)) == 1


async def test_the_stop_button_leaves_the_flow_without_saving(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    _, summary = await set_up(chat, "5/12 19h")
    (done,) = await say(chat, SECRETARY, button=button(summary, "Hủy"))
    assert done.text == text("cancel.done")
    assert await stored_meetings(database) == []
    assert await flow_of(database, SECRETARY) is None
    assert await flow_of(database, SIBLING) is None


async def test_numbers_choose_on_a_messenger_without_buttons(
    database: Database, chat: ChatCore, units: dict[str, int]
) -> None:
    numbered = ChannelTraits(has_buttons=False, text_limit=2000)

    async def typed(body: str) -> Reply:
        (reply,) = await chat.handle(
            Incoming(Channel.TELEGRAM, SECRETARY, SECRETARY, body), numbered
        )
        return reply

    await typed("/taohop")
    assert (await typed("2")).text == t("ask_when")
    await typed("5/12 19h")
    assert (await typed("1")).text == t("ask_place")
    await typed("Hội trường A")
    await typed("1")  # Bỏ qua: no agenda
    await typed("1")  # Bỏ qua: no document
    assert "Nhắc trước: 1 ngày và 2 giờ" in (await typed("2")).text
    assert (await typed("1")).text.startswith("Đã lưu lịch họp.")
    (meeting,) = await stored_meetings(database)
    assert (meeting.kind, meeting.agenda) == ("themed", None)
    assert meeting.reminder_offsets == [24 * 60, 120]


async def test_skipping_a_reminded_meeting_tells_the_members_of_that_meeting_only(
    database: Database, chat: ChatCore, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    rule = Recurrence.monthly_day(4, time(19, 30), starts=date(2026, 12, 1))
    await create_meeting(database, clock, OFFICE, starts_at=None, recurrence=rule)
    clock.set(datetime(2026, 12, 1, 19, 31, tzinfo=HCM))
    assert await send_due_reminders(database, settings, clock) == 1
    (choose,) = await say(chat, SECRETARY, "/huyhop")
    assert len(choose.flat_buttons) == 3  # 04/12, 04/01 and «Hủy»
    (confirm,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
    await say(chat, SECRETARY, button=button(confirm, "Chỉ buổi này"))
    (done,) = await say(chat, SECRETARY, "Đón đoàn kiểm tra")
    assert done.text.endswith(t("notified", count=3))
    notice = text(
        "meetings.cancelled_notice",
        title="Sinh hoạt chi bộ thường kỳ",
        when="19:30 thứ Sáu, 04/12/2026",
        reason=" Lý do: Đón đoàn kiểm tra",
    )
    assert await notices(database) == [(SECRETARY, notice), (MEMBER, notice), (None, notice)]
    assert [(due.date(), status) for due, status in await reminders(database)][:3] == [
        (date(2026, 12, 1), "sent"),
        (date(2026, 12, 4), "skipped"),
        (date(2027, 1, 1), "pending"),
    ]


async def test_a_meeting_moved_and_moved_back_is_reminded_at_its_first_time(
    database: Database, clock: Clock, units: dict[str, int]
) -> None:
    meeting_id = await create_meeting(database, clock, OFFICE)
    async with database.session() as session, session.begin():
        service = services(session, clock).meetings
        assert await service.reschedule(meeting_id, FRIDAY.replace(hour=8), actor="test") == 0
        assert await service.reschedule(meeting_id, FRIDAY, actor="test") == 0
    assert await reminders(database) == [
        (datetime(2026, 12, 1, 19, 30, tzinfo=HCM), "pending"),
        (datetime(2026, 12, 4, 17, 30, tzinfo=HCM), "pending"),
    ]


async def test_one_meeting_of_a_monthly_schedule_moves_alone(
    database: Database, chat: ChatCore, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    rule = Recurrence.monthly_day(4, time(19, 30), starts=date(2026, 12, 1))
    meeting_id = await create_meeting(database, clock, OFFICE, starts_at=None, recurrence=rule)
    clock.set(datetime(2026, 12, 1, 19, 31, tzinfo=HCM))
    assert await send_due_reminders(database, settings, clock) == 1  # for 04/12

    (choose,) = await say(chat, SECRETARY, "/suahop")
    (fields,) = await say(chat, SECRETARY, button=choose.flat_buttons[0].data)
    assert labels(fields) == ["Đổi giờ", "Đổi địa điểm", "Đổi nội dung", "Hủy"]
    await say(chat, SECRETARY, button=button(fields, "Đổi giờ"))
    (confirm,) = await say(chat, SECRETARY, "5/12 19h")
    (done,) = await say(chat, SECRETARY, button=button(confirm, "Lưu"))
    assert done.text.splitlines()[:2] == [
        "Đã sửa Sinh hoạt chi bộ thường kỳ: ⏰ Giờ mới: 19:00 thứ Bảy, 05/12/2026",
        t("notified", count=3),
    ]
    moved = datetime(2026, 12, 5, 19, 0, tzinfo=HCM)
    async with database.session() as session:
        meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    assert meeting.recurrence == rule.move(date(2026, 12, 4), moved).to_dict()
    # The next month keeps its usual day and time.
    assert sorted(set(await reminder_occurrences(database)))[-2:] == [
        moved,
        datetime(2027, 1, 4, 19, 30, tzinfo=HCM),
    ]
