"""Changing coming meetings in chat: /huyhop cancels a meeting (or one meeting of a monthly
schedule), /suahop gives it a new time, place or agenda. The secretary chooses the unit,
then one of its meetings of the next 60 days; members already reminded are told. The
meeting chosen is checked against the member's grants again before anything is saved."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.models import Meeting
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.meetings import DateTimeInputError, Recurrence, describe, parse_when
from bot.services.permissions import Action, Actor, Scope
from bot.texts import text
from handlers.flow import Data, Steps
from handlers.guards import requires
from handlers.meeting_setup import (
    MAX_AGENDA_CHARS,
    MAX_PLACE_CHARS,
    ChooseUnit,
    Save,
    Skip,
    body,
    length_problem,
    local,
    save,
    save_row,
    skip_row,
    stop_button,
    t,
    unit_menu,
    when,
)
from handlers.meetings import meeting_title
from handlers.new_meeting import reminders_line
from handlers.unit_choice import unit_options, units_allowed

UPCOMING_DAYS = 60
MAX_MEETINGS_SHOWN = 10
MAX_REASON_CHARS = 300
ACTION = Action.MANAGE_MEETINGS


class Step(StrEnum):
    UNIT = "change_unit"
    MEETING = "meeting"
    SCOPE = "scope"
    REASON = "reason"
    FIELD = "field"
    VALUE = "value"
    CONFIRM = "change_confirm"


class Purpose(StrEnum):
    CANCEL = "cancel"
    EDIT = "edit"


class Occurrences(StrEnum):
    """What a cancellation covers."""

    ONE = "one"  # this meeting of a monthly schedule
    ALL = "all"  # the meeting, or the whole schedule


class Field(StrEnum):
    """What /suahop changes; each has the texts button_<field>, ask_new_<field> and
    change_<field>. For a monthly schedule a new time moves only the chosen meeting."""

    TIME = "time"
    PLACE = "place"
    AGENDA = "agenda"


class PickMeeting(ButtonData, prefix="mt:pick"):
    meeting: int
    at: datetime


class ChooseOccurrences(ButtonData, prefix="mt:scope"):
    occurrences: Occurrences


class ChooseField(ButtonData, prefix="mt:field"):
    field: Field


async def _scope(ctx: Context, member: MemberView) -> Scope:
    return await ctx.services.permissions.scope(member.id, ACTION)


async def _allowed(ctx: Context, member: MemberView, data: Data, units: list[int]) -> bool:
    return await units_allowed(ctx, await _scope(ctx, member), data["options"], units)


def _not_allowed() -> list[Reply]:
    return [Reply(text("secretary.not_allowed"))]


def _gone() -> list[Reply]:
    return [Reply(t("meeting_gone"))]


async def _begin(ctx: Context, actor: Actor, purpose: Purpose) -> list[Reply]:
    data: Data = {"purpose": purpose, "options": await unit_options(ctx, actor), "units": []}
    if len(data["options"]) == 1:
        return await _meeting_menu(ctx, data, data["options"][0])
    await save(ctx, Step.UNIT, data)
    return [await unit_menu(ctx, data["options"])]


@requires(ACTION)
async def start_cancel(ctx: Context, actor: Actor) -> list[Reply]:
    return await _begin(ctx, actor, Purpose.CANCEL)


@requires(ACTION)
async def start_edit(ctx: Context, actor: Actor) -> list[Reply]:
    return await _begin(ctx, actor, Purpose.EDIT)


async def on_unit(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    unit = ctx.pressed(ChooseUnit).unit
    if not await _allowed(ctx, member, data, [unit]):
        return _not_allowed()
    return await _meeting_menu(ctx, data, unit)


async def _meeting_menu(ctx: Context, data: Data, unit: int) -> list[Reply]:
    data["units"] = [unit]
    meetings = ctx.services.meetings
    found = (await meetings.upcoming(unit, UPCOMING_DAYS))[:MAX_MEETINGS_SHOWN]
    name = await ctx.services.accounts.unit_name(unit)
    if not found:
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(t("no_meetings", unit=name, days=UPCOMING_DAYS))]
    await save(ctx, Step.MEETING, data)
    rows = tuple(
        (
            Button(
                t("meeting_button", when=when(ctx, o.at), title=meeting_title(o.meeting)),
                PickMeeting(o.meeting.id, o.at).pack(),
            ),
        )
        for o in found
    )
    key = "choose_meeting_cancel" if data["purpose"] == Purpose.CANCEL else "choose_meeting_edit"
    return [Reply(t(key, unit=name), buttons=(*rows, (stop_button(),)))]


async def _chosen_meeting(ctx: Context, data: Data) -> Meeting | None:
    """The meeting chosen, while it is a coming meeting of the chosen unit."""
    meetings = ctx.services.meetings
    meeting = await meetings.meeting(data["meeting"])
    if meeting is None or meeting.organisation_id != data["units"][0]:
        return None
    at = local(ctx, data["at"])
    if at <= ctx.services.clock() or at not in meetings.occurrences(
        meeting, at, at + timedelta(minutes=1)
    ):
        return None
    return meeting


async def _changeable(ctx: Context, member: MemberView, data: Data) -> Meeting | list[Reply]:
    """The meeting chosen if the member may still change it, else the reply saying why not."""
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return _gone()
    if not await _allowed(ctx, member, data, [meeting.organisation_id]):
        return _not_allowed()
    return meeting


async def on_pick(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    pressed = ctx.pressed(PickMeeting)
    data["meeting"], data["at"] = pressed.meeting, int(pressed.at.timestamp())
    meeting = await _changeable(ctx, member, data)
    if isinstance(meeting, list):
        return meeting
    if data["purpose"] == Purpose.CANCEL:
        return await _ask_occurrences(ctx, data, meeting)
    return await _ask_field(ctx, data, meeting)


def _about(ctx: Context, data: Data, meeting: Meeting) -> dict[str, str]:
    """The fields the texts use to name the chosen meeting."""
    return {
        "title": meeting_title(meeting),
        "when": when(ctx, local(ctx, data["at"])),
        "place": meeting.place,
    }


def _notified(notices: int) -> str:
    return t("notified", count=notices) if notices else t("notified_none")


# Cancelling: this meeting or the whole schedule, with a reason or none.


async def _ask_occurrences(ctx: Context, data: Data, meeting: Meeting) -> list[Reply]:
    await save(ctx, Step.SCOPE, data)
    keep = stop_button("button_keep")
    if meeting.recurrence is None:
        whole = ChooseOccurrences(Occurrences.ALL).pack()
        buttons = ((Button(t("button_cancel_meeting"), whole), keep),)
        return [Reply(t("confirm_cancel", **_about(ctx, data, meeting)), buttons=buttons)]
    repeat = describe(Recurrence.from_dict(meeting.recurrence))
    buttons = (
        (
            Button(t("button_only_this"), ChooseOccurrences(Occurrences.ONE).pack()),
            Button(t("button_whole_schedule"), ChooseOccurrences(Occurrences.ALL).pack()),
        ),
        (keep,),
    )
    prompt = t("confirm_cancel_recurring", repeat=repeat, **_about(ctx, data, meeting))
    return [Reply(prompt, buttons=buttons)]


async def on_occurrences(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return _gone()
    chosen = ctx.pressed(ChooseOccurrences).occurrences
    if chosen is Occurrences.ONE and meeting.recurrence is None:
        return [Reply(text("fallback.stale_button"))]
    data["scope"] = chosen
    await save(ctx, Step.REASON, data)
    return [Reply(t("ask_reason"), buttons=skip_row())]


async def typed_reason(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    reason = body(ctx)
    problem = length_problem(reason, MAX_REASON_CHARS, "ask_reason")
    if problem:
        return problem
    return await _cancel(ctx, member, data, reason)


async def on_skip_reason(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    return await _cancel(ctx, member, data, None)


async def _cancel(ctx: Context, member: MemberView, data: Data, reason: str | None) -> list[Reply]:
    meeting = await _changeable(ctx, member, data)
    if isinstance(meeting, list):
        return meeting
    actor, scope = f"member:{member.id}", await _scope(ctx, member)
    about = _about(ctx, data, meeting)
    meetings = ctx.services.meetings
    if data["scope"] == Occurrences.ONE:
        at = local(ctx, data["at"])
        notices = await meetings.skip_occurrence(
            meeting.id, at, actor=actor, reason=reason, scope=scope
        )
        done = t("skipped", **about)
    else:
        notices = await meetings.cancel(meeting.id, actor=actor, reason=reason, scope=scope)
        if meeting.recurrence is not None:
            repeat = describe(Recurrence.from_dict(meeting.recurrence))
            done = t("cancelled_schedule", title=about["title"], repeat=repeat)
        else:
            done = t("cancelled", **about)
    await ctx.services.conversations.clear(ctx.account.id)
    return [Reply(f"{done} {_notified(notices)}")]


# Changing: the time, the place or the agenda.


async def _ask_field(ctx: Context, data: Data, meeting: Meeting) -> list[Reply]:
    await save(ctx, Step.FIELD, data)
    buttons = tuple(Button(t(f"button_{field}"), ChooseField(field).pack()) for field in Field)
    prompt = t("choose_change", **_about(ctx, data, meeting))
    return [Reply(prompt, buttons=(buttons, (stop_button(),)))]


async def on_field(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return _gone()
    field = ctx.pressed(ChooseField).field
    data["field"] = field
    await save(ctx, Step.VALUE, data)
    return [Reply(t(f"ask_new_{field}"))]


async def typed_value(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    typed = body(ctx)
    field = Field(data["field"])
    if field is Field.TIME:
        try:
            at = parse_when(typed, now=ctx.services.clock(), tz=ctx.services.settings.timezone)
        except DateTimeInputError as error:
            return [Reply(str(error))]
        data["value"] = int(at.timestamp())
    else:
        limit = MAX_PLACE_CHARS if field is Field.PLACE else MAX_AGENDA_CHARS
        problem = length_problem(typed, limit, f"ask_new_{field}")
        if problem:
            return problem
        data["value"] = typed
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return _gone()
    await save(ctx, Step.CONFIRM, data)
    prompt = t("confirm_change", change=_change(ctx, data), **_about(ctx, data, meeting))
    return [Reply(prompt, buttons=save_row())]


def _change(ctx: Context, data: Data) -> str:
    value = data["value"]
    shown = when(ctx, local(ctx, value)) if data["field"] == Field.TIME else value
    return t(f"change_{data['field']}", value=shown)


async def on_save(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    meeting = await _changeable(ctx, member, data)
    if isinstance(meeting, list):
        return meeting
    actor, scope = f"member:{member.id}", await _scope(ctx, member)
    meetings = ctx.services.meetings
    done = t("changed", title=meeting_title(meeting), change=_change(ctx, data))
    field, value = Field(data["field"]), data["value"]
    await ctx.services.conversations.clear(ctx.account.id)
    if field is Field.TIME and meeting.recurrence is not None:
        occurrence, to = local(ctx, data["at"]), local(ctx, value)
        try:
            notices = await meetings.move_occurrence(
                meeting.id, occurrence, to, actor=actor, scope=scope
            )
        except ValueError as error:
            return [Reply(str(error))]
        return [Reply(f"{done}\n{_notified(notices)}\n{await reminders_line(ctx, meeting)}")]
    if field is Field.TIME:
        notices = await meetings.reschedule(meeting.id, local(ctx, value), actor=actor, scope=scope)
        return [Reply(f"{done}\n{_notified(notices)}\n{await reminders_line(ctx, meeting)}")]
    if field is Field.PLACE:
        notices = await meetings.change_details(meeting.id, actor=actor, place=value, scope=scope)
        return [Reply(f"{done}\n{_notified(notices)}")]
    await meetings.change_details(meeting.id, actor=actor, agenda=value, scope=scope)
    return [Reply(done)]


STEPS = Steps(
    buttons={
        ChooseUnit: {Step.UNIT: on_unit},
        PickMeeting: {Step.MEETING: on_pick},
        ChooseOccurrences: {Step.SCOPE: on_occurrences},
        Skip: {Step.REASON: on_skip_reason},
        ChooseField: {Step.FIELD: on_field},
        Save: {Step.CONFIRM: on_save},
    },
    typed={Step.REASON: typed_reason, Step.VALUE: typed_value},
)


def register(router: Router) -> None:
    router.command("huyhop")(start_cancel)
    router.command("suahop")(start_edit)
