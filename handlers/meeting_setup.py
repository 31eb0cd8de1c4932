"""What the two meeting conversations share: setting up new meetings (handlers/new_meeting.py:
/taohop, /taphuan) and changing coming ones (handlers/change_meeting.py: /huyhop, /suahop).
They run as one flow, "meeting_setup", whose steps the two modules declare; the
buttons they both offer (a unit, skip, save, stop), the texts and the reading of typed text
live here."""

from __future__ import annotations

from datetime import datetime

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.meetings import format_when
from bot.texts import text
from handlers.flow import Data, Flow, Steps

FLOW = "meeting_setup"
MAX_PLACE_CHARS = 300
MAX_AGENDA_CHARS = 1000


class Stop(ButtonData, prefix="mt:stop"):
    """Leaves the flow at any step; nothing is saved."""


class ChooseUnit(ButtonData, prefix="mt:unit"):
    unit: int


class Skip(ButtonData, prefix="mt:skip"):
    """Goes on without an agenda (a new meeting) or a reason (a cancellation)."""


class Save(ButtonData, prefix="mt:save"):
    """Saves what the summary shows."""


def t(key: str, **values: object) -> str:
    return text(f"meeting_setup.{key}", **values)


def stop_button(label: str = "button_stop") -> Button:
    return Button(t(label), Stop().pack())


def skip_row() -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("button_skip"), Skip().pack()),),)


def save_row() -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("button_save"), Save().pack()), stop_button()),)


async def unit_menu(ctx: Context, options: list[int]) -> Reply:
    """The units offered, one button each, to choose one."""
    names = await ctx.services.accounts.unit_names(options)
    rows = tuple(
        (Button(name, ChooseUnit(unit).pack()),) for unit, name in zip(options, names, strict=True)
    )
    return Reply(t("choose_unit"), buttons=rows)


async def save(ctx: Context, step: str, data: Data) -> None:
    await ctx.services.conversations.start(ctx.account.id, FLOW, step, data)


def local(ctx: Context, epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, ctx.services.settings.timezone)


def when(ctx: Context, moment: datetime) -> str:
    return format_when(moment, ctx.services.settings.timezone)


def body(ctx: Context) -> str:
    return (ctx.incoming.text or "").strip()


def length_problem(typed: str, limit: int, ask_key: str) -> list[Reply]:
    """Asks again for empty text and for a shorter one; nothing when the text will do."""
    if not typed:
        return [Reply(t(ask_key))]
    if len(typed) > limit:
        return [Reply(t("too_long", limit=limit))]
    return []


def register(router: Router, *steps: Steps) -> None:
    """The one flow, taking the steps of both conversations."""
    combined = steps[0]
    for more in steps[1:]:
        combined = combined | more
    Flow(FLOW, combined, Stop, "meeting_setup.use_buttons", "meeting_setup.aside").register(router)
