"""/hangngay: opting in to one question a day at a chosen time (preset buttons, or typed
"/hangngay 20:15"), changing it, opting out. The question arrives through the outbox with
letter buttons; the answer says right or wrong and when the question comes back. /ketqua
shows the streak and mastery by topic (handlers/quiz.py adds it)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.daily import AnswerOutcome
from bot.services.notices import DailyQuestion
from bot.texts import text
from handlers.guards import members_only
from handlers.quiz import LETTERS, choice_buttons

PRESET_MINUTES = (6 * 60 + 30, 12 * 60, 19 * 60, 21 * 60)
_TYPED_TIME = re.compile(r"(\d{1,2})[:hg.](\d{2})?")


class DailyTime(ButtonData, prefix="day:t"):
    minute: int


class DailyStop(ButtonData, prefix="day:stop"):
    pass


class DailyAnswerButton(ButtonData, prefix="day:a"):
    send: int
    shown: int


def _clock_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _when(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).strftime("%H:%M ngày %d/%m/%Y")


def typed_minute(typed: str) -> int | None:
    """ "20:15", "20h15", "7h", "07.30" → minutes after midnight; None if not a time."""
    match = _TYPED_TIME.fullmatch(typed.strip().lower())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def _time_rows(stop: bool) -> tuple[tuple[Button, ...], ...]:
    times = tuple(Button(_clock_time(m), DailyTime(m).pack()) for m in PRESET_MINUTES)
    if not stop:
        return (times,)
    return (times, (Button(text("daily.button_stop"), DailyStop().pack()),))


async def _subscribe(ctx: Context, member: MemberView, minute: int) -> list[Reply]:
    first = await ctx.services.daily.subscribe(member.id, minute)
    timezone = ctx.services.settings.timezone
    return [Reply(text("daily.subscribed", time=_clock_time(minute), next=_when(first, timezone)))]


@members_only
async def show(ctx: Context, member: MemberView) -> list[Reply]:
    typed = ctx.incoming.command_args.strip()
    if typed:
        minute = typed_minute(typed)
        if minute is None:
            return [Reply(text("daily.bad_time"))]
        return await _subscribe(ctx, member, minute)
    found = await ctx.services.daily.subscription(member.id)
    if found is None or not found.active:
        return [Reply(text("daily.intro_off"), buttons=_time_rows(stop=False))]
    when = _when(found.next_at, ctx.services.settings.timezone)
    body = text("daily.intro_on", time=_clock_time(found.minute), next=when)
    return [Reply(body, buttons=_time_rows(stop=True))]


@members_only
async def choose_time(ctx: Context, member: MemberView) -> list[Reply]:
    minute = ctx.pressed(DailyTime).minute
    if minute not in PRESET_MINUTES:
        return [Reply(text("fallback.stale_button"))]
    return await _subscribe(ctx, member, minute)


@members_only
async def stop(ctx: Context, member: MemberView) -> list[Reply]:
    stopped = await ctx.services.daily.unsubscribe(member.id)
    return [Reply(text("daily.stopped" if stopped else "daily.not_subscribed"))]


@members_only
async def answer(ctx: Context, member: MemberView) -> list[Reply]:
    pressed = ctx.pressed(DailyAnswerButton)
    found = await ctx.services.daily.answer(pressed.send, member.id, pressed.shown)
    if found.outcome is AnswerOutcome.NOT_FOUND:
        return [Reply(text("quiz.not_yours"))]
    if found.outcome is AnswerOutcome.ALREADY:
        return [Reply(text("quiz.already_answered"))]
    right = found.outcome is AnswerOutcome.RIGHT
    letter = LETTERS[found.right_shown]
    if right:
        lines = [text("quiz.right")]
    elif found.right_choice:
        lines = [text("quiz.wrong", letter=letter, choice=found.right_choice)]
    else:  # the bank no longer has the question as it was asked
        lines = [text("daily.wrong_edited", letter=letter)]
    if found.explanation:
        lines.append(text("quiz.explanation", explanation=found.explanation))
    if right and found.next_on is not None:
        days = (found.next_on - ctx.services.daily.today()).days
        lines.append(text("daily.right_later", days=days))
    else:
        lines.append(text("daily.wrong_tomorrow"))
    return [Reply("\n".join(lines))]


def render_question(notice: DailyQuestion, timezone: ZoneInfo) -> Reply:
    lines = [text("daily.question", topic=notice.topic, question=notice.question), ""]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(notice.choices)]
    buttons = choice_buttons(
        len(notice.choices), lambda i: DailyAnswerButton(notice.send_id, i).pack()
    )
    return Reply("\n".join(lines), buttons=buttons)


def register(router: Router) -> None:
    router.command("hangngay")(show)
    router.button(DailyTime)(choose_time)
    router.button(DailyStop)(stop)
    router.button(DailyAnswerButton)(answer)
