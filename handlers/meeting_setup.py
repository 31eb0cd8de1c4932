"""Meeting schedules in chat. Secretaries set one up step by step with /taohop, cancel a
meeting (or one meeting of a monthly schedule) with /huyhop and change its time, place or
agenda with /suahop; trainers run /taphuan, the same set-up for several units at once.

One flow, its mode in the state: every button names an action ("mt:kind:regular") that is
only taken at the steps that offer it, and every unit or meeting chosen is checked against
the member's permissions again before anything is saved."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from bot.messages import Button, Reply
from bot.models import Meeting
from bot.router import Context, Router
from bot.services.meetings import (
    LAST_WEEK,
    DateTimeInputError,
    Recurrence,
    describe,
    format_when,
    parse_when,
)
from bot.services.meetings.calendar import KINDS
from bot.services.meetings.when import WEEKDAY_NAMES
from bot.services.permissions import Action
from bot.texts import text
from handlers.guards import members_only
from handlers.unit_choice import toggle_rows, toggled, unit_options, units_allowed
from handlers.wizard import ButtonStep, Data, TypedStep, Wizard

FLOW = "meeting_setup"
UPCOMING_DAYS = 60
MAX_MEETINGS_SHOWN = 10
MAX_PLACE_CHARS = 300
MAX_AGENDA_CHARS = 1000
MAX_DOCUMENT_CHARS = 500  # the column's size
MAX_REASON_CHARS = 300
REPEATS = ("once", "day", "weekday")
FIELDS = ("time", "place", "agenda")
# Reminder choices offered when a meeting is set up: minutes before each occurrence.
REMINDERS = {
    "3d2h": (3 * 24 * 60, 120),
    "1d2h": (24 * 60, 120),
    "1w1d": (7 * 24 * 60, 24 * 60),
    "2h": (120,),
}
DEFAULT_REMINDERS = "3d2h"


class Mode(StrEnum):
    CREATE = "create"
    TRAINING = "training"
    CANCEL = "cancel"
    EDIT = "edit"


# Trainers hold no meeting permission of their own: the units their grants cover are the
# units they may schedule quizzes for (admins everywhere).
_ACTIONS = {
    Mode.CREATE: Action.MANAGE_MEETINGS,
    Mode.TRAINING: Action.SCHEDULE_QUIZ,
    Mode.CANCEL: Action.MANAGE_MEETINGS,
    Mode.EDIT: Action.MANAGE_MEETINGS,
}


def _t(key: str, **values: object) -> str:
    return text(f"meeting_setup.{key}", **values)


def _button(label: str, payload: str) -> Button:
    return Button(label, f"mt:{payload}")


def _stop_button() -> Button:
    return _button(_t("button_stop"), "stop")


def _mode(data: Data) -> Mode:
    return Mode(data["mode"])


async def _save(ctx: Context, step: str, data: Data) -> None:
    await ctx.services.conversations.start(ctx.account.id, FLOW, step, data)


async def _allowed(ctx: Context, data: Data, units: list[int]) -> bool:
    """The units were offered in this flow and are still within the member's grants."""
    return await units_allowed(ctx, _ACTIONS[_mode(data)], data["options"], units)


def _not_allowed(data: Data) -> list[Reply]:
    key = "meeting_setup.trainers_only" if _mode(data) is Mode.TRAINING else "secretary.not_allowed"
    return [Reply(text(key))]


def _local(ctx: Context, epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, ctx.services.settings.timezone)


def _when(ctx: Context, moment: datetime) -> str:
    return format_when(moment, ctx.services.settings.timezone)


def _body(ctx: Context) -> str:
    return (ctx.incoming.text or "").strip()


def _length_problem(body: str, limit: int, ask_key: str) -> list[Reply]:
    """Asks again for empty text and for a shorter one; nothing when the text will do."""
    if not body:
        return [Reply(_t(ask_key))]
    if len(body) > limit:
        return [Reply(_t("too_long", limit=limit))]
    return []


# Starting: choose the unit (or units), then the next step of the mode.


async def _begin(ctx: Context, mode: Mode) -> list[Reply]:
    data: Data = {
        "mode": mode.value,
        "options": await unit_options(ctx, _ACTIONS[mode]),
        "units": [],
    }
    if not data["options"]:
        return _not_allowed(data)
    if mode is Mode.TRAINING:
        return [await _units_menu(ctx, data)]
    if len(data["options"]) == 1:
        return await _unit_chosen(ctx, data, data["options"][0])
    await _save(ctx, "unit", data)
    names = ctx.services.accounts.unit_name
    rows = [(_button(await names(u), f"unit:{u}"),) for u in data["options"]]
    return [Reply(_t("choose_unit"), buttons=tuple(rows))]


@members_only
async def start_create(ctx: Context) -> list[Reply]:
    return await _begin(ctx, Mode.CREATE)


@members_only
async def start_training(ctx: Context) -> list[Reply]:
    return await _begin(ctx, Mode.TRAINING)


@members_only
async def start_cancel(ctx: Context) -> list[Reply]:
    return await _begin(ctx, Mode.CANCEL)


@members_only
async def start_edit(ctx: Context) -> list[Reply]:
    return await _begin(ctx, Mode.EDIT)


async def _units_menu(ctx: Context, data: Data) -> Reply:
    await _save(ctx, "units", data)
    rows = await toggle_rows(ctx, data["options"], data["units"], lambda unit: f"mt:unit:{unit}")
    rows.append((_button(_t("button_next"), "next"), _stop_button()))
    return Reply(_t("choose_units"), buttons=tuple(rows))


async def on_unit(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if not argument.isdigit() or not await _allowed(ctx, data, [int(argument)]):
        return _not_allowed(data)
    unit = int(argument)
    if _mode(data) is not Mode.TRAINING:
        return await _unit_chosen(ctx, data, unit)
    data["units"] = toggled(data["options"], data["units"], unit)
    return [await _units_menu(ctx, data)]


async def on_next(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if not data["units"]:
        return [Reply(_t("no_units")), await _units_menu(ctx, data)]
    data["kind"] = "training"
    await _save(ctx, "when", data)
    return [Reply(_t("ask_when"))]


async def _unit_chosen(ctx: Context, data: Data, unit: int) -> list[Reply]:
    data["units"] = [unit]
    if _mode(data) is not Mode.CREATE:
        return await _meeting_menu(ctx, data)
    await _save(ctx, "kind", data)
    buttons = [_button(_t(f"kind_{kind}"), f"kind:{kind}") for kind in KINDS]
    name = await ctx.services.accounts.unit_name(unit)
    return [Reply(_t("choose_kind", unit=name), buttons=(tuple(buttons[:2]), tuple(buttons[2:])))]


# Setting up: kind, date and time, repetition, place, agenda, then save.


async def on_kind(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if argument not in KINDS:
        return [Reply(text("fallback.stale_button"))]
    data["kind"] = argument
    await _save(ctx, "when", data)
    return [Reply(_t("ask_when"))]


async def typed_when(ctx: Context, data: Data) -> list[Reply]:
    settings = ctx.services.settings
    try:
        at = parse_when(_body(ctx), now=ctx.services.clock(), tz=settings.timezone)
    except DateTimeInputError as error:
        return [Reply(str(error))]
    data["at"] = int(at.timestamp())
    await _save(ctx, "repeat", data)
    local = _local(ctx, data["at"])
    week = _week_of_month(local.day)
    week_name = _t("week_last") if week == LAST_WEEK else _t("week_number", week=week)
    labels = (
        _t("repeat_once"),
        _t("repeat_monthly_day", day=local.day),
        _t("repeat_monthly_weekday", weekday=WEEKDAY_NAMES[local.weekday()], week=week_name),
    )
    rows = tuple((_button(label, f"repeat:{r}"),) for label, r in zip(labels, REPEATS, strict=True))
    return [Reply(_t("choose_repeat", when=_when(ctx, local)), buttons=rows)]


def _week_of_month(day: int) -> int:
    """1 to 4 for the first four weeks; the days from the 29th on are the last week."""
    week = (day - 1) // 7 + 1
    return LAST_WEEK if week == 5 else week


def _recurrence(repeat: str, at: datetime) -> Recurrence | None:
    """The monthly schedule the first meeting `at` (local) starts, or None for one meeting."""
    if repeat == "day":
        return Recurrence.monthly_day(at.day, at.time(), starts=at.date())
    if repeat == "weekday":
        week = _week_of_month(at.day)
        return Recurrence.monthly_weekday(at.weekday(), week, at.time(), starts=at.date())
    return None


async def on_repeat(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if argument not in REPEATS:
        return [Reply(text("fallback.stale_button"))]
    data["repeat"] = argument
    await _save(ctx, "place", data)
    return [Reply(_t("ask_place"))]


async def typed_place(ctx: Context, data: Data) -> list[Reply]:
    body = _body(ctx)
    problem = _length_problem(body, MAX_PLACE_CHARS, "ask_place")
    if problem:
        return problem
    data["place"] = body
    await _save(ctx, "agenda", data)
    return [Reply(_t("ask_agenda"), buttons=((_button(_t("button_skip"), "skip"),),))]


async def typed_agenda(ctx: Context, data: Data) -> list[Reply]:
    body = _body(ctx)
    problem = _length_problem(body, MAX_AGENDA_CHARS, "ask_agenda")
    if problem:
        return problem
    data["agenda"] = body
    return await _ask_document(ctx, data)


async def _ask_document(ctx: Context, data: Data) -> list[Reply]:
    await _save(ctx, "document", data)
    return [Reply(_t("ask_document"), buttons=((_button(_t("button_skip"), "nodoc"),),))]


async def typed_document(ctx: Context, data: Data) -> list[Reply]:
    link = _body(ctx)
    if not link.startswith(("http://", "https://")) or len(link) > MAX_DOCUMENT_CHARS:
        return [Reply(_t("bad_document"), buttons=((_button(_t("button_skip"), "nodoc"),),))]
    data["document"] = link
    return await _ask_reminders(ctx, data)


async def on_no_document(ctx: Context, data: Data, argument: str) -> list[Reply]:
    data["document"] = None
    return await _ask_reminders(ctx, data)


async def _ask_reminders(ctx: Context, data: Data) -> list[Reply]:
    await _save(ctx, "remind", data)
    rows = tuple((_button(_t(f"remind_{key}"), f"remind:{key}"),) for key in REMINDERS)
    return [Reply(_t("ask_remind"), buttons=rows)]


async def on_remind(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if argument not in REMINDERS:
        return [Reply(text("fallback.stale_button"))]
    data["remind"] = argument
    return await _confirm_setup(ctx, data)


async def _confirm_setup(ctx: Context, data: Data) -> list[Reply]:
    await _save(ctx, "confirm", data)
    summary = await _summary(ctx, data)
    buttons = ((_button(_t("button_save"), "save"), _stop_button()),)
    return [Reply(_t("confirm", summary=summary), buttons=buttons)]


async def _summary(ctx: Context, data: Data) -> str:
    at = _local(ctx, data["at"])
    rule = _recurrence(data["repeat"], at)
    names = [await ctx.services.accounts.unit_name(unit) for unit in data["units"]]
    agenda, document = data.get("agenda"), data.get("document")
    return _t(
        "summary",
        units=", ".join(names),
        title=text(f"meetings.kind_{data['kind']}"),
        when=_when(ctx, at),
        repeat=_t("repeat_once") if rule is None else describe(rule),
        place=data["place"],
        agenda=_t("agenda_line", agenda=agenda) if agenda else "",
        document=_t("document_line", document=document) if document else "",
        remind=_t(f"remind_{data.get('remind', DEFAULT_REMINDERS)}"),
    )


async def _create(ctx: Context, data: Data) -> list[Reply]:
    if not await _allowed(ctx, data, data["units"]):
        return _not_allowed(data)
    assert ctx.account.member is not None
    at = _local(ctx, data["at"])
    rule = _recurrence(data["repeat"], at)
    created = [
        await ctx.services.meetings.create(
            unit,
            kind=data["kind"],
            title="",
            place=data["place"],
            actor=f"member:{ctx.account.member.id}",
            agenda=data.get("agenda"),
            document=data.get("document"),
            starts_at=None if rule else at,
            recurrence=rule,
            offsets=REMINDERS[data.get("remind", DEFAULT_REMINDERS)],
        )
        for unit in data["units"]
    ]
    summary = await _summary(ctx, data)
    await ctx.services.conversations.clear(ctx.account.id)
    reminders = await _reminders_line(ctx, created[0])
    if _mode(data) is Mode.TRAINING:
        saved = _t("saved_training", count=len(created), summary=summary, reminders=reminders)
    else:
        saved = _t("saved", summary=summary, reminders=reminders)
    return [Reply(saved)]


async def _reminders_line(ctx: Context, meeting: Meeting) -> str:
    due = await ctx.services.meetings.pending_reminders(meeting.id)
    if not due:
        return _t("reminders_none")
    return _t("reminders", times="; ".join(_when(ctx, moment) for moment in due))


# Cancelling and changing: choose one of the unit's coming meetings first.


async def _meeting_menu(ctx: Context, data: Data) -> list[Reply]:
    unit = data["units"][0]
    meetings = ctx.services.meetings
    found = (await meetings.upcoming(unit, UPCOMING_DAYS))[:MAX_MEETINGS_SHOWN]
    name = await ctx.services.accounts.unit_name(unit)
    if not found:
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(_t("no_meetings", unit=name, days=UPCOMING_DAYS))]
    await _save(ctx, "meeting", data)
    rows = tuple(
        (
            _button(
                _t("meeting_button", when=_when(ctx, o.at), title=meetings.title(o.meeting)),
                f"pick:{o.meeting.id}:{int(o.at.timestamp())}",
            ),
        )
        for o in found
    )
    key = "choose_meeting_cancel" if _mode(data) is Mode.CANCEL else "choose_meeting_edit"
    return [Reply(_t(key, unit=name), buttons=(*rows, (_stop_button(),)))]


async def _chosen_meeting(ctx: Context, data: Data) -> Meeting | None:
    """The meeting chosen, while it is a coming meeting of the chosen unit."""
    meetings = ctx.services.meetings
    meeting = await meetings.meeting(data["meeting"])
    if meeting is None or meeting.organisation_id != data["units"][0]:
        return None
    at = _local(ctx, data["at"])
    if at <= ctx.services.clock() or at not in meetings.occurrences(
        meeting, at, at + timedelta(minutes=1)
    ):
        return None
    return meeting


async def on_pick(ctx: Context, data: Data, argument: str) -> list[Reply]:
    meeting_id, _, epoch = argument.partition(":")
    if not meeting_id.isdigit() or not epoch.isdigit():
        return [Reply(text("fallback.stale_button"))]
    data["meeting"], data["at"] = int(meeting_id), int(epoch)
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return [Reply(_t("meeting_gone"))]
    if not await _allowed(ctx, data, [meeting.organisation_id]):
        return _not_allowed(data)
    if _mode(data) is Mode.CANCEL:
        return await _ask_scope(ctx, data, meeting)
    return await _ask_field(ctx, data, meeting)


def _about(ctx: Context, data: Data, meeting: Meeting) -> dict[str, str]:
    """The fields the texts use to name the chosen meeting."""
    return {
        "title": ctx.services.meetings.title(meeting),
        "when": _when(ctx, _local(ctx, data["at"])),
        "place": meeting.place,
    }


async def _ask_scope(ctx: Context, data: Data, meeting: Meeting) -> list[Reply]:
    await _save(ctx, "scope", data)
    keep = _button(_t("button_keep"), "stop")
    if meeting.recurrence is None:
        buttons = ((_button(_t("button_cancel_meeting"), "scope:all"), keep),)
        return [Reply(_t("confirm_cancel", **_about(ctx, data, meeting)), buttons=buttons)]
    repeat = describe(Recurrence.from_dict(meeting.recurrence))
    buttons = (
        (
            _button(_t("button_only_this"), "scope:one"),
            _button(_t("button_whole_schedule"), "scope:all"),
        ),
        (keep,),
    )
    body = _t("confirm_cancel_recurring", repeat=repeat, **_about(ctx, data, meeting))
    return [Reply(body, buttons=buttons)]


async def on_scope(ctx: Context, data: Data, argument: str) -> list[Reply]:
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return [Reply(_t("meeting_gone"))]
    if argument not in ("one", "all") or (argument == "one" and meeting.recurrence is None):
        return [Reply(text("fallback.stale_button"))]
    data["scope"] = argument
    await _save(ctx, "reason", data)
    return [Reply(_t("ask_reason"), buttons=((_button(_t("button_skip"), "skip"),),))]


async def typed_reason(ctx: Context, data: Data) -> list[Reply]:
    body = _body(ctx)
    problem = _length_problem(body, MAX_REASON_CHARS, "ask_reason")
    if problem:
        return problem
    return await _cancel(ctx, data, body)


async def _cancel(ctx: Context, data: Data, reason: str | None) -> list[Reply]:
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return [Reply(_t("meeting_gone"))]
    if not await _allowed(ctx, data, [meeting.organisation_id]):
        return _not_allowed(data)
    assert ctx.account.member is not None
    actor = f"member:{ctx.account.member.id}"
    about = _about(ctx, data, meeting)
    meetings = ctx.services.meetings
    if data["scope"] == "one":
        at = _local(ctx, data["at"])
        notices = await meetings.skip_occurrence(meeting.id, at, actor=actor, reason=reason)
        done = _t("skipped", **about)
    elif meeting.recurrence is not None:
        repeat = describe(Recurrence.from_dict(meeting.recurrence))
        notices = await meetings.cancel(meeting.id, actor=actor, reason=reason)
        done = _t("cancelled_schedule", title=about["title"], repeat=repeat)
    else:
        notices = await meetings.cancel(meeting.id, actor=actor, reason=reason)
        done = _t("cancelled", **about)
    await ctx.services.conversations.clear(ctx.account.id)
    return [Reply(f"{done} {_notified(notices)}")]


def _notified(notices: int) -> str:
    return _t("notified", count=notices) if notices else _t("notified_none")


async def _ask_field(ctx: Context, data: Data, meeting: Meeting) -> list[Reply]:
    await _save(ctx, "field", data)
    # For a monthly schedule a new time moves only the chosen meeting.
    buttons = tuple(_button(_t(f"button_{field}"), f"field:{field}") for field in FIELDS)
    body = _t("choose_change", **_about(ctx, data, meeting))
    return [Reply(body, buttons=(buttons, (_stop_button(),)))]


async def on_field(ctx: Context, data: Data, argument: str) -> list[Reply]:
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return [Reply(_t("meeting_gone"))]
    if argument not in FIELDS:
        return [Reply(text("fallback.stale_button"))]
    data["field"] = argument
    await _save(ctx, "value", data)
    return [Reply(_t(f"ask_new_{argument}"))]


async def typed_value(ctx: Context, data: Data) -> list[Reply]:
    body = _body(ctx)
    field = data["field"]
    if field == "time":
        try:
            at = parse_when(body, now=ctx.services.clock(), tz=ctx.services.settings.timezone)
        except DateTimeInputError as error:
            return [Reply(str(error))]
        data["value"] = int(at.timestamp())
    else:
        limit = MAX_PLACE_CHARS if field == "place" else MAX_AGENDA_CHARS
        problem = _length_problem(body, limit, f"ask_new_{field}")
        if problem:
            return problem
        data["value"] = body
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return [Reply(_t("meeting_gone"))]
    await _save(ctx, "confirm", data)
    buttons = ((_button(_t("button_save"), "save"), _stop_button()),)
    body = _t("confirm_change", change=_change(ctx, data), **_about(ctx, data, meeting))
    return [Reply(body, buttons=buttons)]


def _change(ctx: Context, data: Data) -> str:
    value = data["value"]
    shown = _when(ctx, _local(ctx, value)) if data["field"] == "time" else value
    return _t(f"change_{data['field']}", value=shown)


async def _apply_change(ctx: Context, data: Data) -> list[Reply]:
    meeting = await _chosen_meeting(ctx, data)
    if meeting is None:
        return [Reply(_t("meeting_gone"))]
    if not await _allowed(ctx, data, [meeting.organisation_id]):
        return _not_allowed(data)
    assert ctx.account.member is not None
    actor = f"member:{ctx.account.member.id}"
    meetings = ctx.services.meetings
    done = _t("changed", title=meetings.title(meeting), change=_change(ctx, data))
    field, value = data["field"], data["value"]
    await ctx.services.conversations.clear(ctx.account.id)
    if field == "time" and meeting.recurrence is not None:
        occurrence, to = _local(ctx, data["at"]), _local(ctx, value)
        try:
            notices = await meetings.move_occurrence(meeting.id, occurrence, to, actor=actor)
        except ValueError as error:
            return [Reply(str(error))]
        return [Reply(f"{done}\n{_notified(notices)}\n{await _reminders_line(ctx, meeting)}")]
    if field == "time":
        notices = await meetings.reschedule(meeting.id, _local(ctx, value), actor=actor)
        return [Reply(f"{done}\n{_notified(notices)}\n{await _reminders_line(ctx, meeting)}")]
    if field == "place":
        notices = await meetings.change_details(meeting.id, actor=actor, place=value)
        return [Reply(f"{done}\n{_notified(notices)}")]
    await meetings.change_details(meeting.id, actor=actor, agenda=value)
    return [Reply(done)]


# Routing within the flow.


async def on_skip(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if _mode(data) is Mode.CANCEL:
        return await _cancel(ctx, data, None)
    data["agenda"] = None
    return await _ask_document(ctx, data)


async def on_save(ctx: Context, data: Data, argument: str) -> list[Reply]:
    if _mode(data) is Mode.EDIT:
        return await _apply_change(ctx, data)
    return await _create(ctx, data)


# Each button action, the steps that offer it and what it does.
_BUTTONS: dict[str, tuple[tuple[str, ...], ButtonStep]] = {
    "unit": (("unit", "units"), on_unit),
    "next": (("units",), on_next),
    "kind": (("kind",), on_kind),
    "repeat": (("repeat",), on_repeat),
    "remind": (("remind",), on_remind),
    "nodoc": (("document",), on_no_document),
    "skip": (("agenda", "reason"), on_skip),
    "save": (("confirm",), on_save),
    "pick": (("meeting",), on_pick),
    "scope": (("scope",), on_scope),
    "field": (("field",), on_field),
}
_TYPED: dict[str, TypedStep] = {
    "when": typed_when,
    "place": typed_place,
    "agenda": typed_agenda,
    "document": typed_document,
    "reason": typed_reason,
    "value": typed_value,
}


_WIZARD = Wizard(FLOW, _BUTTONS, _TYPED, "meeting_setup.use_buttons")


def register(router: Router) -> None:
    router.command("taohop")(start_create)
    router.command("taphuan")(start_training)
    router.command("huyhop")(start_cancel)
    router.command("suahop")(start_edit)
    router.button("mt")(_WIZARD.on_button)
    router.flow(FLOW)(_WIZARD.on_text)
