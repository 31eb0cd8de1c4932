"""/dubi: a probationary member's year (admission, when to prepare, the end of the 12
months, when the chi bộ must consider recognition); a secretary also sees the probationary
members of the units they lead. The reminders of that year are worded here too."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.messages import Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.notices import ProbationAgenda, ProbationSelfReview, ProbationSponsor
from bot.services.permissions import Action
from bot.services.probation import Probationer, Timeline
from bot.texts import text
from handlers.guards import members_only


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _status(timeline: Timeline, today: date) -> str:
    if today < timeline.ends_on:
        return text("probation.status_left", days=(timeline.ends_on - today).days)
    if today <= timeline.consider_by:
        return text("probation.status_ended", consider=_day(timeline.consider_by))
    return text("probation.status_overdue")


def _own(probationer: Probationer | None, today: date) -> str:
    if probationer is None:
        return text("probation.not_probationary")
    timeline = probationer.timeline
    if timeline is None:
        return text("probation.no_date")
    return text(
        "probation.timeline",
        name=probationer.full_name,
        admitted=_day(timeline.admitted_on),
        prepare=_day(timeline.prepare_from),
        ends=_day(timeline.ends_on),
        consider=_day(timeline.consider_by),
        status=_status(timeline, today),
    )


def _unit_line(probationer: Probationer) -> str:
    timeline = probationer.timeline
    if timeline is None:
        return text(
            "probation.unit_line_no_date", name=probationer.full_name, unit=probationer.unit
        )
    return text(
        "probation.unit_line",
        name=probationer.full_name,
        unit=probationer.unit,
        ends=_day(timeline.ends_on),
        consider=_day(timeline.consider_by),
    )


@members_only
async def show(ctx: Context, member: MemberView) -> list[Reply]:
    probation = ctx.services.probation
    replies = [Reply(_own(await probation.of_member(member.id), probation.today))]
    # Secretaries see their units' probationary members: people of their own organisation.
    scope = await ctx.services.permissions.scope(member.id, Action.MANAGE_MEETINGS)
    if not scope.empty:
        found = await probation.in_scope(scope)
        lines = [text("probation.unit_title"), *map(_unit_line, found)] if found else []
        replies.append(Reply("\n".join(lines) if found else text("probation.unit_none")))
    return replies


def render_self_review(notice: ProbationSelfReview, timezone: ZoneInfo) -> Reply:
    timeline = notice.timeline
    return Reply(
        text(
            "probation.self_review",
            ends=_day(timeline.ends_on),
            consider=_day(timeline.consider_by),
        )
    )


def render_sponsor(notice: ProbationSponsor, timezone: ZoneInfo) -> Reply:
    timeline = notice.timeline
    return Reply(
        text(
            "probation.sponsor",
            name=notice.name,
            unit=notice.unit,
            ends=_day(timeline.ends_on),
            consider=_day(timeline.consider_by),
        )
    )


def render_agenda(notice: ProbationAgenda, timezone: ZoneInfo) -> Reply:
    timeline = notice.timeline
    return Reply(
        text(
            "probation.agenda",
            name=notice.name,
            unit=notice.unit,
            ends=_day(timeline.ends_on),
            consider=_day(timeline.consider_by),
        )
    )


def register(router: Router) -> None:
    router.command("dubi")(show)
