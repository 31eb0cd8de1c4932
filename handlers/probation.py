"""The probationary year in chat: /dubi shows a probationary member's timeline (admission,
the 12 months, when the chi bộ must consider recognition); the reminders a month before
the end are worded here."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.messages import Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.notices import ProbationReminder
from bot.texts import text
from handlers.guards import members_only


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def render_reminder(notice: ProbationReminder, timezone: ZoneInfo) -> Reply:
    return Reply(
        text(
            f"probation.remind_{notice.to}",
            member=notice.member,
            unit=notice.unit,
            ends=_day(notice.ends),
            consider_by=_day(notice.consider_by),
        )
    )


@members_only
async def timeline(ctx: Context, member: MemberView) -> list[Reply]:
    admitted = await ctx.services.probation.admission(member.id)
    if admitted is None:
        return [Reply(text("probation.not_probationary"))]
    line = ctx.services.probation.timeline_of(admitted)
    key = "probation.timeline_done" if line.months_done >= 12 else "probation.timeline"
    return [
        Reply(
            text(
                key,
                admitted=_day(line.admitted),
                ends=_day(line.ends),
                months=line.months_done,
                remind_on=_day(line.remind_on),
                consider_by=_day(line.consider_by),
            )
        )
    ]


def register(router: Router) -> None:
    router.command("dubi")(timeline)
