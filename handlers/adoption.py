"""Bringing a unit's members onto the bot, for its secretaries (and admins): /macode, the
activation codes for members who cannot link by phone, and /baocao, who has linked so far."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.exports.spreadsheets import write_codes
from bot.messages import Document, Reply
from bot.router import Context, Router
from bot.services.permissions import Action, Actor
from bot.texts import text
from handlers.guards import requires

MAX_REPORT_LINES = 30


@requires(Action.ISSUE_CODES)
async def activation_codes(ctx: Context, actor: Actor) -> list[Reply]:
    replies = []
    # An admin in chat issues for the unit they belong to; the command line covers the rest.
    for unit_id in actor.scope.roots(actor.member.organisation_id):
        issued = await ctx.services.codes.issue_for_unit(
            unit_id, issued_by=actor.ref, now=ctx.services.clock()
        )
        await ctx.services.audit.record(
            actor.ref, "codes.issue", f"unit:{unit_id}", count=len(issued)
        )
        name = await ctx.services.accounts.unit_name(unit_id)
        if not issued:
            replies.append(Reply(text("secretary.codes_none", unit=name)))
            continue
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "ma-kich-hoat.xlsx"
            write_codes(path, issued, ctx.services.settings.timezone)
            document = Document(f"ma-kich-hoat-{unit_id}.xlsx", path.read_bytes())
        replies.append(
            Reply(text("secretary.codes_ready", count=len(issued), unit=name), document=document)
        )
    return replies


@requires(Action.VIEW_REPORTS)
async def adoption_report(ctx: Context, actor: Actor) -> list[Reply]:
    # The whole tree for an admin.
    scope = actor.scope
    units: list[int | None] = (
        [None] if scope.everywhere else scope.roots(actor.member.organisation_id)
    )
    rows = [row for unit in units for row in await ctx.services.adoption.report(unit)]
    lines = [text("secretary.report_title")]
    for row in rows[:MAX_REPORT_LINES]:
        lines.append(
            text(
                "secretary.report_line",
                indent="  " * row.depth,
                unit=row.unit_name,
                linked=row.linked,
                members=row.members,
                rate=f"{row.rate:.0%}",
                telegram=row.telegram,
                zalo=row.zalo,
            )
        )
    if len(rows) > MAX_REPORT_LINES:
        lines.append(text("secretary.report_more", count=len(rows) - MAX_REPORT_LINES))
    idle = [row for row in rows if not row.is_total and row.never_asked]
    if idle:
        lines += ["", text("secretary.never_asked_title")]
        lines += [
            text("secretary.never_asked_line", unit=row.unit_name, count=row.never_asked)
            for row in idle[:MAX_REPORT_LINES]
        ]
    return [Reply("\n".join(lines))]


def register(router: Router) -> None:
    router.command("macode")(activation_codes)
    router.command("baocao")(adoption_report)
