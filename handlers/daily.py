"""A question a day in chat: /hangngay opts in at a chosen time (or changes it, or stops);
the question arrives through the outbox with letter buttons (typed letters on Zalo), and the
answer says when the question comes back. /ketqua shows the streak and mastery by topic."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.notices import DailyQuestionPrompt
from bot.services.quizzes.daily import DailyOutcome, DailyProgress
from bot.texts import text
from handlers.answer_letters import LETTERS, choice_buttons
from handlers.guards import members_only

# The times offered, in minutes after local midnight: before work, lunch, the evening.
TIMES = (6 * 60, 7 * 60, 12 * 60, 18 * 60, 20 * 60, 21 * 60)


class DailyTime(ButtonData, prefix="daily:t"):
    minute: int


class DailyStop(ButtonData, prefix="daily:stop"):
    """«Dừng nhận»: opting out."""


class DailyAnswer(ButtonData, prefix="daily:a"):
    delivery: int
    shown: int  # the choice's place as shown: A is 0


def clock_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def render_question(notice: DailyQuestionPrompt, timezone: ZoneInfo) -> Reply:
    lines = [text("daily.question", topic=notice.topic, question=notice.question), ""]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(notice.choices)]
    body = "\n".join(lines) + "\n\n" + text("daily.how_to_answer")
    return Reply(
        body,
        buttons=choice_buttons(
            len(notice.choices), lambda i: DailyAnswer(notice.delivery_id, i).pack()
        ),
    )


def _time_buttons(current: int | None) -> tuple[tuple[Button, ...], ...]:
    buttons = [
        Button(clock_time(m) + (" ✓" if m == current else ""), DailyTime(m).pack()) for m in TIMES
    ]
    return tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))


@members_only
async def daily(ctx: Context, member: MemberView) -> list[Reply]:
    subscription = await ctx.services.daily.subscription(member.id)
    if subscription is None:
        return [Reply(text("daily.intro"), buttons=_time_buttons(None))]
    minute = subscription.send_minute
    buttons = (
        *_time_buttons(minute),
        (Button(text("daily.button_stop"), DailyStop().pack()),),
    )
    return [Reply(text("daily.status", time=clock_time(minute)), buttons=buttons)]


@members_only
async def choose_time(ctx: Context, member: MemberView) -> list[Reply]:
    minute = ctx.pressed(DailyTime).minute
    if minute not in TIMES:
        return [Reply(text("fallback.stale_button"))]
    service = ctx.services.daily
    await service.subscribe(member.id, minute)
    first = await service.first_day(member.id, minute)
    when = text("daily.today" if first == service.today() else "daily.tomorrow")
    return [Reply(text("daily.subscribed", time=clock_time(minute), when=when))]


@members_only
async def stop(ctx: Context, member: MemberView) -> list[Reply]:
    stopped = await ctx.services.daily.stop(member.id)
    return [Reply(text("daily.stopped" if stopped else "daily.not_subscribed"))]


@members_only
async def answer(ctx: Context, member: MemberView) -> list[Reply]:
    pressed = ctx.pressed(DailyAnswer)
    answered = await ctx.services.daily.answer(pressed.delivery, member.id, pressed.shown)
    if answered.outcome is DailyOutcome.NOT_FOUND:
        return [Reply(text("daily.not_yours"))]
    if answered.outcome is DailyOutcome.ALREADY_ANSWERED:
        return [Reply(text("daily.already_answered"))]
    letter = LETTERS[answered.right]
    lines = [
        text("quiz.right")
        if answered.correct
        else text("quiz.wrong", letter=letter, choice=answered.right_choice)
    ]
    if answered.explanation:
        lines.append(text("quiz.explanation", explanation=answered.explanation))
    assert answered.due_on is not None
    days = (answered.due_on - ctx.services.daily.today()).days
    lines.append(text("daily.again_tomorrow" if days <= 1 else "daily.again_in", days=days))
    return [Reply("\n".join(lines))]


def progress_lines(progress: DailyProgress) -> list[str]:
    """/ketqua's part on the question a day; nothing for a member who never took part."""
    if progress.subscribed_minute is None and progress.answered == 0:
        return []
    lines = [
        text(
            "daily.results",
            streak=progress.streak,
            answered=progress.answered,
            correct=progress.correct,
        )
    ]
    if progress.topics:
        lines.append(text("daily.mastery_title"))
        lines += [
            text(
                "daily.mastery_line",
                topic=t.topic,
                mastered=t.mastered,
                seen=t.seen,
                total=t.total,
            )
            for t in progress.topics
        ]
    if progress.subscribed_minute is None:
        lines.append(text("daily.results_stopped"))
    return lines


def register(router: Router) -> None:
    router.command("hangngay")(daily)
    router.button(DailyTime)(choose_time)
    router.button(DailyStop)(stop)
    router.button(DailyAnswer)(answer)
