"""/xephang [MM/YYYY]: units ranked by the month's daily questions, for secretaries and
trainers, over the units right under those they lead (their own unit if none): units only,
never members, and only within their scope. A quiz's ranking is in its report
(handlers/quiz_report.py)."""

from __future__ import annotations

import re

from bot.messages import Reply
from bot.router import Context, Router
from bot.services.permissions import Action, Actor, Scope
from bot.services.rankings import rank
from bot.texts import text
from handlers.guards import requires
from handlers.quiz_report import ranking_line

_MONTH = re.compile(r"(\d{1,2})[/.-](\d{4})")


def _month(typed: str, year: int, month: int) -> tuple[int, int] | None:
    if not typed:
        return year, month
    match = _MONTH.fullmatch(typed)
    if match is None or not 1 <= int(match.group(1)) <= 12:
        return None
    return int(match.group(2)), int(match.group(1))


def _outermost(scope: Scope) -> Scope:
    """The scope without granted units that lie under another granted one."""
    if scope.everywhere:
        return scope
    paths = [path for _, path in scope.units]
    top = tuple(
        (unit, path)
        for unit, path in scope.units
        if not any(other != path and path.startswith(other) for other in paths)
    )
    return Scope(units=top)


@requires(Action.VIEW_REPORTS)
async def monthly(ctx: Context, actor: Actor) -> list[Reply]:
    today = ctx.services.daily.today()
    wanted = _month(ctx.incoming.command_args.strip(), today.year, today.month)
    if wanted is None:
        return [Reply(text("rankings.usage"))]
    year, month = wanted
    scope, home = _outermost(actor.scope), actor.member.organisation_id
    roots = scope.roots(home)
    offered = await ctx.services.permissions.units_to_offer(scope, home)
    units = [unit for unit in offered if unit not in roots] or roots
    standings = await ctx.services.daily.unit_month(units, year, month)
    names = await ctx.services.accounts.unit_names(roots)
    lines = [text("rankings.month_title", month=f"{month:02d}/{year}", root=", ".join(names))]
    lines += [ranking_line("rankings.month_line", ranked) for ranked in rank(standings)]
    return [Reply("\n".join(lines))]


def register(router: Router) -> None:
    router.command("xephang")(monthly)
