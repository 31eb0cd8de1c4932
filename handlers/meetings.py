"""Meetings in chat: answering a reminder (attend, or absent with a reason) and /lichhop,
the coming meetings of the member's chi bộ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.models import Meeting
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.meetings.calendar import Answer
from bot.services.meetings.when import format_when
from bot.services.notices import MeetingCancelled, MeetingChanged, MeetingReminder
from bot.services.permissions import Action
from bot.texts import text
from handlers.guards import members_only

REASON_FLOW = "rsvp"
UPCOMING_DAYS = 60
# /lichhop offers «Tham dự» / «Vắng» for the first meetings it lists.
MAX_RSVP_ROWS = 5
MAX_REASON_CHARS = 300


class Step(StrEnum):
    REASON = "reason"


class Attendance(StrEnum):
    ATTEND = "a"
    ABSENT = "v"


class Rsvp(ButtonData, prefix="rsvp"):
    """«Tham dự» / «Vắng» on a reminder: the occurrence as epoch seconds keeps it short."""

    meeting: int
    at: datetime
    answer: Attendance


def meeting_title(meeting: Meeting) -> str:
    """The meeting's own title, or its kind's."""
    return meeting.title or text(f"meetings.kind_{meeting.kind}")


def render_reminder(notice: MeetingReminder, timezone: ZoneInfo) -> Reply:
    meeting, at = notice.meeting, notice.at
    agenda = text("meetings.agenda_line", agenda=meeting.agenda) if meeting.agenda else ""
    document = meeting.document
    body = text(
        "meetings.reminder",
        title=meeting_title(meeting),
        when=format_when(at, timezone),
        place=meeting.place,
        agenda=agenda,
        document=text("meetings.document_line", document=document) if document else "",
    )
    buttons = (
        (
            Button(text("meetings.button_attend"), Rsvp(meeting.id, at, Attendance.ATTEND).pack()),
            Button(text("meetings.button_absent"), Rsvp(meeting.id, at, Attendance.ABSENT).pack()),
        ),
    )
    return Reply(body, buttons=buttons)


def render_cancelled(notice: MeetingCancelled, timezone: ZoneInfo) -> Reply:
    reason = notice.reason
    return Reply(
        text(
            "meetings.cancelled_notice",
            title=meeting_title(notice.meeting),
            when=format_when(notice.at, timezone),
            reason=text("meetings.cancelled_reason", reason=reason) if reason else "",
        )
    )


def render_changed(notice: MeetingChanged, timezone: ZoneInfo) -> Reply:
    return Reply(
        text(
            "meetings.changed_notice",
            title=meeting_title(notice.meeting),
            when=format_when(notice.at, timezone),
            place=notice.meeting.place,
        )
    )


@members_only
async def answer(ctx: Context, member: MemberView) -> list[Reply]:
    rsvp = ctx.pressed(Rsvp)
    meeting_id, occurrence = rsvp.meeting, rsvp.at
    meetings = ctx.services.meetings
    meeting = await meetings.meeting(meeting_id)
    # The occurrence too is named by the button: one the schedule does not hold (moved, or
    # a forged time) records nothing.
    held = meeting is not None and meetings.occurrences(
        meeting, occurrence, occurrence + timedelta(minutes=1)
    )
    if meeting is None or not held:
        return [Reply(text("meetings.meeting_gone"))]
    if meeting.organisation_id != member.organisation_id:
        return [Reply(text("meetings.not_your_meeting"))]
    when = format_when(occurrence, ctx.services.settings.timezone)
    if rsvp.answer is Attendance.ATTEND:
        await meetings.respond(meeting_id, occurrence, member.id, "attend")
        return [Reply(text("meetings.attend_recorded", title=meeting_title(meeting), when=when))]
    await ctx.services.conversations.start(
        ctx.account.id,
        REASON_FLOW,
        Step.REASON,
        {"meeting": meeting_id, "at": int(occurrence.timestamp())},
    )
    return [Reply(text("meetings.ask_reason"))]


async def reason_step(ctx: Context) -> list[Reply]:
    assert ctx.state is not None
    reason = (ctx.incoming.text or "").strip()[:MAX_REASON_CHARS]
    if not reason:
        return [Reply(text("meetings.ask_reason"))]
    member = ctx.account.member
    meetings = ctx.services.meetings
    meeting = await meetings.meeting(int(ctx.state.data["meeting"]))
    await ctx.services.conversations.clear(ctx.account.id)
    if member is None or meeting is None or meeting.organisation_id != member.organisation_id:
        return [Reply(text("meetings.not_your_meeting"))]
    occurrence = datetime.fromtimestamp(int(ctx.state.data["at"]), UTC)
    await meetings.respond(meeting.id, occurrence, member.id, "absent", reason)
    when = format_when(occurrence, ctx.services.settings.timezone)
    return [
        Reply(
            text("meetings.absent_recorded", title=meeting_title(meeting), when=when, reason=reason)
        )
    ]


@members_only
async def upcoming(ctx: Context, member: MemberView) -> list[Reply]:
    meetings = ctx.services.meetings
    found = await meetings.upcoming(member.organisation_id, UPCOMING_DAYS)
    unit = member.organisation_name
    if not found:
        return [Reply(text("meetings.upcoming_none", unit=unit, days=UPCOMING_DAYS))]
    timezone = ctx.services.settings.timezone
    # The unit's secretaries also see who answered the reminders, and how.
    permissions = ctx.services.permissions
    manages = await permissions.scope(member.id, Action.MANAGE_MEETINGS)
    secretary = await permissions.within(manages, [member.organisation_id])
    lines = [text("meetings.upcoming_title", unit=unit)]
    for occurrence in found:
        lines.append(
            text(
                "meetings.upcoming_line",
                when=format_when(occurrence.at, timezone),
                title=meeting_title(occurrence.meeting),
                place=occurrence.meeting.place,
            )
        )
        if secretary:
            lines += _answers(await meetings.answers(occurrence.meeting.id, occurrence.at))
    rows = tuple(_rsvp_row(o.meeting, o.at, timezone) for o in found[:MAX_RSVP_ROWS])
    return [Reply("\n".join(lines), buttons=rows)]


def _rsvp_row(meeting: Meeting, at: datetime, timezone: ZoneInfo) -> tuple[Button, ...]:
    """«Tham dự» / «Vắng» for one meeting of the list, named by its time: the same
    buttons, and the same answers, as its reminder's."""
    moment = at.astimezone(timezone).strftime("%H:%M %d/%m")
    return tuple(
        Button(
            text("meetings.upcoming_button", answer=text(f"meetings.button_{name}"), when=moment),
            Rsvp(meeting.id, at, attendance).pack(),
        )
        for name, attendance in (("attend", Attendance.ATTEND), ("absent", Attendance.ABSENT))
    )


def _answers(answers: list[Answer]) -> list[str]:
    said = [a.answer for a in answers]
    lines = [
        text(
            "meetings.answers_line",
            attend=said.count("attend"),
            absent=said.count("absent"),
            silent=said.count(None),
        )
    ]
    lines += [
        text("meetings.absent_line", name=a.name, reason=f" ({a.reason})" if a.reason else "")
        for a in answers
        if a.answer == "absent"
    ]
    return lines


def register(router: Router) -> None:
    router.button(Rsvp)(answer)
    router.flow(REASON_FLOW)(reason_step)
    router.command("lichhop")(upcoming)
