"""Setting up meetings in chat: a secretary's /taohop, step by step (unit, kind, date and
time, repetition, place, agenda, document, reminders, then save), and a trainer's /taphuan,
the same set-up for several units at once. Every unit chosen is checked against the
member's grants again before anything is saved."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.models import Meeting
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.meetings import (
    LAST_WEEK,
    DateTimeInputError,
    Recurrence,
    describe,
    parse_when,
)
from bot.services.meetings.calendar import MeetingKind
from bot.services.meetings.when import WEEKDAY_NAMES
from bot.services.permissions import Action, Actor
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
from handlers.unit_choice import toggle_rows, toggled, unit_options, units_allowed

MAX_DOCUMENT_CHARS = 500  # the column's size


class Step(StrEnum):
    UNIT = "unit"
    UNITS = "units"
    KIND = "kind"
    WHEN = "when"
    REPEAT = "repeat"
    PLACE = "place"
    AGENDA = "agenda"
    DOCUMENT = "document"
    REMIND = "remind"
    CONFIRM = "confirm"


class Mode(StrEnum):
    CREATE = "create"  # /taohop: one unit's meeting
    TRAINING = "training"  # /taphuan: one training session for several units


class Repeat(StrEnum):
    ONCE = "once"
    DAY = "day"  # monthly on the same day
    WEEKDAY = "weekday"  # monthly on the same weekday of the same week


class Reminders(StrEnum):
    """The reminder choices offered, the default first; each has the text remind_<value>."""

    THREE_DAYS_TWO_HOURS = "3d2h"
    ONE_DAY_TWO_HOURS = "1d2h"
    ONE_WEEK_ONE_DAY = "1w1d"
    TWO_HOURS = "2h"


# Minutes before each occurrence.
OFFSETS = {
    Reminders.THREE_DAYS_TWO_HOURS: (3 * 24 * 60, 120),
    Reminders.ONE_DAY_TWO_HOURS: (24 * 60, 120),
    Reminders.ONE_WEEK_ONE_DAY: (7 * 24 * 60, 24 * 60),
    Reminders.TWO_HOURS: (120,),
}
DEFAULT_REMINDERS = Reminders.THREE_DAYS_TWO_HOURS


class Next(ButtonData, prefix="mt:next"):
    """The units of a training session are ticked: go on."""


class ChooseKind(ButtonData, prefix="mt:kind"):
    kind: MeetingKind


class ChooseRepeat(ButtonData, prefix="mt:repeat"):
    repeat: Repeat


class ChooseReminders(ButtonData, prefix="mt:remind"):
    reminders: Reminders


class NoDocument(ButtonData, prefix="mt:nodoc"):
    """The meeting has no document to link."""


# Trainers hold no meeting permission of their own: the units their grants cover are the
# units they may schedule quizzes for (admins everywhere).
_ACTIONS = {Mode.CREATE: Action.MANAGE_MEETINGS, Mode.TRAINING: Action.SCHEDULE_QUIZ}


def _mode(data: Data) -> Mode:
    return Mode(data["mode"])


async def _actor(ctx: Context, member: MemberView, data: Data) -> Actor:
    return await ctx.services.permissions.actor(member, _ACTIONS[_mode(data)])


async def _allowed(ctx: Context, member: MemberView, data: Data, units: list[int]) -> bool:
    """The units were offered in this flow and are still within the member's scope."""
    scope = (await _actor(ctx, member, data)).scope
    return await units_allowed(ctx, scope, data["options"], units)


def _not_allowed(data: Data) -> list[Reply]:
    key = "meeting_setup.trainers_only" if _mode(data) is Mode.TRAINING else "secretary.not_allowed"
    return [Reply(text(key))]


# Starting: the unit, or the units of a training session.


async def _begin(ctx: Context, actor: Actor, mode: Mode) -> list[Reply]:
    data: Data = {"mode": mode, "options": await unit_options(ctx, actor), "units": []}
    if mode is Mode.TRAINING:
        return [await _units_menu(ctx, data)]
    if len(data["options"]) == 1:
        return await _unit_chosen(ctx, data, data["options"][0])
    await save(ctx, Step.UNIT, data)
    return [await unit_menu(ctx, data["options"])]


@requires(Action.MANAGE_MEETINGS)
async def start_create(ctx: Context, actor: Actor) -> list[Reply]:
    return await _begin(ctx, actor, Mode.CREATE)


@requires(Action.SCHEDULE_QUIZ, "meeting_setup.trainers_only")
async def start_training(ctx: Context, actor: Actor) -> list[Reply]:
    return await _begin(ctx, actor, Mode.TRAINING)


async def _units_menu(ctx: Context, data: Data) -> Reply:
    await save(ctx, Step.UNITS, data)
    rows = await toggle_rows(
        ctx, data["options"], data["units"], lambda unit: ChooseUnit(unit).pack()
    )
    rows.append((Button(t("button_next"), Next().pack()), stop_button()))
    return Reply(t("choose_units"), buttons=tuple(rows))


async def on_unit(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    unit = ctx.pressed(ChooseUnit).unit
    if not await _allowed(ctx, member, data, [unit]):
        return _not_allowed(data)
    return await _unit_chosen(ctx, data, unit)


async def on_toggle_unit(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    unit = ctx.pressed(ChooseUnit).unit
    if not await _allowed(ctx, member, data, [unit]):
        return _not_allowed(data)
    data["units"] = toggled(data["options"], data["units"], unit)
    return [await _units_menu(ctx, data)]


async def on_next(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    if not data["units"]:
        return [Reply(t("no_units")), await _units_menu(ctx, data)]
    data["kind"] = MeetingKind.TRAINING
    await save(ctx, Step.WHEN, data)
    return [Reply(t("ask_when"))]


async def _unit_chosen(ctx: Context, data: Data, unit: int) -> list[Reply]:
    data["units"] = [unit]
    await save(ctx, Step.KIND, data)
    buttons = [Button(t(f"kind_{kind}"), ChooseKind(kind).pack()) for kind in MeetingKind]
    name = await ctx.services.accounts.unit_name(unit)
    return [Reply(t("choose_kind", unit=name), buttons=(tuple(buttons[:2]), tuple(buttons[2:])))]


# Kind, date and time, repetition, place, agenda, document, reminders.


async def on_kind(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    data["kind"] = ctx.pressed(ChooseKind).kind
    await save(ctx, Step.WHEN, data)
    return [Reply(t("ask_when"))]


async def typed_when(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    settings = ctx.services.settings
    try:
        at = parse_when(body(ctx), now=ctx.services.clock(), tz=settings.timezone)
    except DateTimeInputError as error:
        return [Reply(str(error))]
    data["at"] = int(at.timestamp())
    await save(ctx, Step.REPEAT, data)
    moment = local(ctx, data["at"])
    week = _week_of_month(moment.day)
    week_name = t("week_last") if week == LAST_WEEK else t("week_number", week=week)
    labels = {
        Repeat.ONCE: t("repeat_once"),
        Repeat.DAY: t("repeat_monthly_day", day=moment.day),
        Repeat.WEEKDAY: t(
            "repeat_monthly_weekday", weekday=WEEKDAY_NAMES[moment.weekday()], week=week_name
        ),
    }
    rows = tuple((Button(label, ChooseRepeat(r).pack()),) for r, label in labels.items())
    return [Reply(t("choose_repeat", when=when(ctx, moment)), buttons=rows)]


def _week_of_month(day: int) -> int:
    """1 to 4 for the first four weeks; the days from the 29th on are the last week."""
    week = (day - 1) // 7 + 1
    return LAST_WEEK if week == 5 else week


def _recurrence(repeat: str, at: datetime) -> Recurrence | None:
    """The monthly schedule the first meeting `at` (local) starts, or None for one meeting."""
    if repeat == Repeat.DAY:
        return Recurrence.monthly_day(at.day, at.time(), starts=at.date())
    if repeat == Repeat.WEEKDAY:
        week = _week_of_month(at.day)
        return Recurrence.monthly_weekday(at.weekday(), week, at.time(), starts=at.date())
    return None


async def on_repeat(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    data["repeat"] = ctx.pressed(ChooseRepeat).repeat
    await save(ctx, Step.PLACE, data)
    return [Reply(t("ask_place"))]


async def typed_place(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    typed = body(ctx)
    problem = length_problem(typed, MAX_PLACE_CHARS, "ask_place")
    if problem:
        return problem
    data["place"] = typed
    await save(ctx, Step.AGENDA, data)
    return [Reply(t("ask_agenda"), buttons=skip_row())]


async def typed_agenda(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    typed = body(ctx)
    problem = length_problem(typed, MAX_AGENDA_CHARS, "ask_agenda")
    if problem:
        return problem
    data["agenda"] = typed
    return await _ask_document(ctx, data)


async def on_skip_agenda(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    data["agenda"] = None
    return await _ask_document(ctx, data)


def _no_document_row() -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("button_skip"), NoDocument().pack()),),)


async def _ask_document(ctx: Context, data: Data) -> list[Reply]:
    await save(ctx, Step.DOCUMENT, data)
    return [Reply(t("ask_document"), buttons=_no_document_row())]


async def typed_document(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    link = body(ctx)
    if not link.startswith(("http://", "https://")) or len(link) > MAX_DOCUMENT_CHARS:
        return [Reply(t("bad_document"), buttons=_no_document_row())]
    data["document"] = link
    return await _ask_reminders(ctx, data)


async def on_no_document(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    data["document"] = None
    return await _ask_reminders(ctx, data)


async def _ask_reminders(ctx: Context, data: Data) -> list[Reply]:
    await save(ctx, Step.REMIND, data)
    rows = tuple((Button(t(f"remind_{key}"), ChooseReminders(key).pack()),) for key in Reminders)
    return [Reply(t("ask_remind"), buttons=rows)]


async def on_remind(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    data["remind"] = ctx.pressed(ChooseReminders).reminders
    await save(ctx, Step.CONFIRM, data)
    summary = await _summary(ctx, data)
    return [Reply(t("confirm", summary=summary), buttons=save_row())]


# Saving.


async def _summary(ctx: Context, data: Data) -> str:
    at = local(ctx, data["at"])
    rule = _recurrence(data["repeat"], at)
    names = await ctx.services.accounts.unit_names(data["units"])
    agenda, document = data.get("agenda"), data.get("document")
    return t(
        "summary",
        units=", ".join(names),
        title=text(f"meetings.kind_{data['kind']}"),
        when=when(ctx, at),
        repeat=t("repeat_once") if rule is None else describe(rule),
        place=data["place"],
        agenda=t("agenda_line", agenda=agenda) if agenda else "",
        document=t("document_line", document=document) if document else "",
        remind=t(f"remind_{data.get('remind', DEFAULT_REMINDERS)}"),
    )


async def on_save(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    if not await _allowed(ctx, member, data, data["units"]):
        return _not_allowed(data)
    actor = await _actor(ctx, member, data)
    at = local(ctx, data["at"])
    rule = _recurrence(data["repeat"], at)
    created = [
        await ctx.services.meetings.create(
            unit,
            kind=data["kind"],
            title="",
            place=data["place"],
            actor=actor.ref,
            agenda=data.get("agenda"),
            document=data.get("document"),
            starts_at=None if rule else at,
            recurrence=rule,
            offsets=OFFSETS[Reminders(data.get("remind", DEFAULT_REMINDERS))],
            scope=actor.scope,
        )
        for unit in data["units"]
    ]
    summary = await _summary(ctx, data)
    await ctx.services.conversations.clear(ctx.account.id)
    reminders = await reminders_line(ctx, created[0])
    if _mode(data) is Mode.TRAINING:
        saved = t("saved_training", count=len(created), summary=summary, reminders=reminders)
    else:
        saved = t("saved", summary=summary, reminders=reminders)
    return [Reply(saved)]


async def reminders_line(ctx: Context, meeting: Meeting) -> str:
    """When the meeting's members will be reminded."""
    due = await ctx.services.reminders.pending(meeting.id)
    if not due:
        return t("reminders_none")
    return t("reminders", times="; ".join(when(ctx, moment) for moment in due))


STEPS = Steps(
    buttons={
        ChooseUnit: {Step.UNIT: on_unit, Step.UNITS: on_toggle_unit},
        Next: {Step.UNITS: on_next},
        ChooseKind: {Step.KIND: on_kind},
        ChooseRepeat: {Step.REPEAT: on_repeat},
        Skip: {Step.AGENDA: on_skip_agenda},
        NoDocument: {Step.DOCUMENT: on_no_document},
        ChooseReminders: {Step.REMIND: on_remind},
        Save: {Step.CONFIRM: on_save},
    },
    typed={
        Step.WHEN: typed_when,
        Step.PLACE: typed_place,
        Step.AGENDA: typed_agenda,
        Step.DOCUMENT: typed_document,
    },
)


def register(router: Router) -> None:
    router.command("taohop")(start_create)
    router.command("taphuan")(start_training)
