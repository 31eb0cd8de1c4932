"""Unit rankings in chat: /xephang for trainers (this month's daily questions in their
scope, or `/xephang ID` for a quiz they may read), and /tenxephang for any member to choose
whether their name may appear beside their unit."""

from __future__ import annotations

from datetime import date

from bot.messages import Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.permissions import Action, Actor
from bot.services.rankings import UnitRank
from bot.texts import text
from handlers.guards import members_only, requires

MAX_LINES = 20


def _lines(ranking: list[UnitRank]) -> list[str]:
    lines = []
    for place, unit in enumerate(ranking[:MAX_LINES], start=1):
        average = text("rankings.no_average") if unit.average is None else f"{unit.average}%"
        lines.append(
            text(
                "rankings.line",
                place=place,
                unit=unit.unit_name,
                participation=unit.participation,
                took_part=unit.took_part,
                members=unit.members,
                average=average,
            )
        )
        if unit.named:
            lines.append(text("rankings.named", names=", ".join(unit.named)))
    return lines


@requires(Action.SCHEDULE_QUIZ, refusal="quiz_setup.trainers_only")
async def ranking(ctx: Context, actor: Actor) -> list[Reply]:
    argument = ctx.incoming.command_args
    if argument.isdigit():
        quiz = await ctx.services.quizzes.quiz(int(argument))
        reports = ctx.services.quiz_reports
        if quiz is None or not await reports.may_see(actor, quiz):
            return [Reply(text("quiz_report.not_allowed", id=int(argument)))]
        report = await reports.build(quiz)
        title = text("rankings.quiz_title", title=quiz.title)
        return [Reply("\n".join([title, *_lines(list(report.ranking))]))]
    if argument:
        return [Reply(text("rankings.usage"))]
    today = ctx.services.clock().astimezone(ctx.services.settings.timezone).date()
    month = date(today.year, today.month, 1)
    found = await ctx.services.rankings.daily(month, actor.scope)
    title = text("rankings.daily_title", month=f"{month.month:02d}/{month.year}")
    if not found:
        return [Reply(f"{title}\n{text('rankings.empty')}")]
    return [Reply("\n".join([title, *_lines(found)]))]


@members_only
async def name_choice(ctx: Context, member: MemberView) -> list[Reply]:
    """Turns the member's name in rankings on or off, and says which it is now."""
    rankings = ctx.services.rankings
    named = not await rankings.named(member.id)
    await rankings.set_named(member.id, named)
    return [Reply(text("rankings.name_shown" if named else "rankings.name_hidden"))]


def register(router: Router) -> None:
    router.command("xephang")(ranking)
    router.command("tenxephang")(name_choice)
