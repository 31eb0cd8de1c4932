"""Attendance in chat: /diemdanh lets a secretary mark who attended a recent meeting (a
checklist prefilled from the members' answers); /chuyencan shows a member their year's
record and a secretary, in addition, the unit's summary with the three-month flag."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.models import Meeting
from bot.router import Aside, Context, Router
from bot.services.accounts import MemberView
from bot.services.meetings.attendance import FLAG_MONTHS, Mark, MemberRecord
from bot.services.meetings.when import format_when
from bot.services.notices import AgendaMissing, RegularMeetingMissing
from bot.services.permissions import Action, Actor
from bot.texts import text
from handlers.guards import members_only, requires
from handlers.meetings import meeting_title

FLOW = "attendance"
MAX_OCCURRENCE_CHOICES = 10


class Step(StrEnum):
    CHECKLIST = "checklist"


class PickOccurrence(ButtonData, prefix="att"):
    meeting: int
    at: datetime


class ToggleMember(ButtonData, prefix="attm"):
    member: int


class Finish(StrEnum):
    SAVE = "save"
    CANCEL = "cancel"


class FinishChecklist(ButtonData, prefix="atts"):
    finish: Finish


async def _manager(ctx: Context, member: MemberView) -> Actor:
    return await ctx.services.permissions.actor(member, Action.MANAGE_MEETINGS)


async def _manages(ctx: Context, actor: Actor, meeting: Meeting) -> bool:
    return await ctx.services.permissions.within(actor.scope, [meeting.organisation_id])


def _when(ctx: Context, at: datetime) -> str:
    return format_when(at, ctx.services.settings.timezone)


@requires(Action.MANAGE_MEETINGS)
async def start(ctx: Context, actor: Actor) -> list[Reply]:
    units = actor.scope.roots(actor.member.organisation_id)
    attendance = ctx.services.attendance
    found = [o for unit in units for o in await attendance.recent(unit)]
    if not found:
        return [Reply(text("attendance.no_recent"))]
    buttons = tuple(
        (
            Button(
                text(
                    "attendance.occurrence_button",
                    when=_when(ctx, o.at),
                    title=meeting_title(o.meeting),
                ),
                PickOccurrence(o.meeting.id, o.at).pack(),
            ),
        )
        for o in found[:MAX_OCCURRENCE_CHOICES]
    )
    return [Reply(text("attendance.choose_occurrence"), buttons=buttons)]


async def _checklist(ctx: Context, data: dict[str, Any]) -> Reply:
    meetings = ctx.services.meetings
    meeting = await meetings.meeting(int(data["meeting"]))
    assert meeting is not None
    names = dict(await ctx.services.attendance.members(meeting.organisation_id))
    present = set(data["present"])
    rows = [
        (Button(f"{'☑' if m in present else '☐'} {names.get(m, '')}", ToggleMember(m).pack()),)
        for m in data["members"]
    ]
    rows.append(
        (
            Button(text("attendance.button_save"), FinishChecklist(Finish.SAVE).pack()),
            Button(text("attendance.button_cancel"), FinishChecklist(Finish.CANCEL).pack()),
        )
    )
    body = text(
        "attendance.checklist",
        title=meeting_title(meeting),
        when=_when(ctx, datetime.fromtimestamp(int(data["at"]), UTC)),
        present=len(present),
        total=len(data["members"]),
    )
    return Reply(body, buttons=tuple(rows))


@requires(Action.MANAGE_MEETINGS)
async def pick(ctx: Context, actor: Actor) -> list[Reply]:
    pressed = ctx.pressed(PickOccurrence)
    at = pressed.at
    meeting = await ctx.services.meetings.meeting(pressed.meeting)
    if meeting is None or not await _manages(ctx, actor, meeting):
        return [Reply(text("secretary.not_allowed"))]
    attendance = ctx.services.attendance
    if not await attendance.is_recent(meeting, at):
        return [Reply(text("attendance.not_recent"))]
    members = [m for m, _ in await attendance.members(meeting.organisation_id)]
    data = {
        "meeting": meeting.id,
        "at": int(at.timestamp()),
        "members": members,
        "present": await attendance.prefill(meeting, at),
    }
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.CHECKLIST, data)
    return [await _checklist(ctx, data)]


async def _flow_meeting(ctx: Context, actor: Actor) -> Meeting | None:
    """The meeting of the checklist in progress, if the member still manages it."""
    state = ctx.state
    if state is None or state.flow != FLOW:
        return None
    meeting = await ctx.services.meetings.meeting(int(state.data["meeting"]))
    if meeting is None or not await _manages(ctx, actor, meeting):
        return None
    return meeting


@members_only
async def toggle(ctx: Context, member: MemberView) -> list[Reply]:
    meeting = await _flow_meeting(ctx, await _manager(ctx, member))
    if meeting is None:
        return [Reply(text("fallback.stale_button"))]
    assert ctx.state is not None
    data = dict(ctx.state.data)
    member_id = ctx.pressed(ToggleMember).member
    if member_id not in data["members"]:
        return [Reply(text("fallback.stale_button"))]
    present = list(data["present"])
    data["present"] = (
        [m for m in present if m != member_id] if member_id in present else [*present, member_id]
    )
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.CHECKLIST, data)
    return [await _checklist(ctx, data)]


@members_only
async def finish(ctx: Context, member: MemberView) -> list[Reply]:
    actor = await _manager(ctx, member)
    meeting = await _flow_meeting(ctx, actor)
    if meeting is None:
        return [Reply(text("fallback.stale_button"))]
    assert ctx.state is not None
    data = ctx.state.data
    await ctx.services.conversations.clear(ctx.account.id)
    if ctx.pressed(FinishChecklist).finish is not Finish.SAVE:
        return [Reply(text("cancel.done"))]
    at = datetime.fromtimestamp(int(data["at"]), UTC)
    # Only members still listed in the unit are marked; the checklist's ids are a filter.
    present, total = await ctx.services.attendance.save(meeting, at, set(data["present"]), by=actor)
    title = meeting_title(meeting)
    return [
        Reply(
            text(
                "attendance.saved",
                title=title,
                when=_when(ctx, at),
                present=present,
                total=total,
            )
        )
    ]


async def flow_text(ctx: Context) -> list[Reply]:
    """Text typed while the checklist is open: show it again."""
    assert ctx.state is not None
    return [Reply(text("attendance.use_buttons")), await _checklist(ctx, ctx.state.data)]


def _months(months: tuple[int, ...]) -> str:
    return ", ".join(f"{m:02d}" for m in months)


def _own_lines(record: MemberRecord, held: int, year: int) -> list[str]:
    lines = [
        text(
            "attendance.own_title",
            year=year,
            name=record.full_name,
            held=held,
            attended=record.count(Mark.ATTENDED),
            excused=record.count(Mark.EXCUSED),
            unexcused=record.count(Mark.UNEXCUSED),
            unmarked=record.count(Mark.UNMARKED),
        )
    ]
    if record.unexcused_months:
        lines.append(text("attendance.own_months", months=_months(record.unexcused_months)))
    return lines


def _summary_line(record: MemberRecord) -> str:
    line = text(
        "attendance.summary_line",
        name=record.full_name,
        attended=record.count(Mark.ATTENDED),
        excused=record.count(Mark.EXCUSED),
        unexcused=record.count(Mark.UNEXCUSED),
        unmarked=record.count(Mark.UNMARKED),
    )
    if record.flagged:
        line += text("attendance.summary_flag", months=_months(record.unexcused_months))
    return line


@members_only
async def record(ctx: Context, member: MemberView) -> list[Reply]:
    attendance = ctx.services.attendance
    year = ctx.services.clock().astimezone(ctx.services.settings.timezone).year
    own = await attendance.year(member.organisation_id, year)
    mine = own.member(member.id)
    if mine is None:
        return [Reply(text("attendance.own_none", year=year))]
    replies = [Reply("\n".join(_own_lines(mine, len(own.occurrences), year)))]
    managed = (await _manager(ctx, member)).scope
    for unit in managed.roots(member.organisation_id):
        summary = own if unit == own.unit_id else await attendance.year(unit, year)
        lines = [
            text(
                "attendance.summary_title",
                unit=await ctx.services.accounts.unit_name(unit),
                year=year,
                held=len(summary.occurrences),
            )
        ]
        lines += [_summary_line(r) for r in summary.members]
        if any(r.flagged for r in summary.members):
            lines.append(text("attendance.summary_rule", months=FLAG_MONTHS))
        replies.append(Reply("\n".join(lines)))
    return replies


def render_regular_missing(notice: RegularMeetingMissing, timezone: ZoneInfo) -> Reply:
    month = f"{notice.month:02d}/{notice.year}"
    return Reply(text("attendance.nudge_regular", unit=notice.unit, month=month))


def render_agenda_missing(notice: AgendaMissing, timezone: ZoneInfo) -> Reply:
    return Reply(
        text(
            "attendance.nudge_agenda",
            title=meeting_title(notice.meeting),
            unit=notice.unit,
            when=format_when(notice.at, timezone),
        )
    )


def register(router: Router) -> None:
    router.command("diemdanh")(start)
    router.button(PickOccurrence)(pick)
    router.button(ToggleMember)(toggle)
    router.button(FinishChecklist)(finish)
    router.flow(FLOW, aside=Aside(lambda ctx: Reply(text("attendance.aside"))))(flow_text)
    router.command("chuyencan")(record)
