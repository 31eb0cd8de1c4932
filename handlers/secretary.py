"""What secretaries (and admins) do for their own unit in chat: activation codes for members
who cannot link by phone, and the adoption figures. Every act passes the permission check."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.exports.spreadsheets import write_codes
from bot.messages import Document, Reply
from bot.router import Context, Router
from bot.services.permissions import Action, Grant, Role
from bot.texts import text
from handlers.guards import members_only

MAX_REPORT_LINES = 30


async def _units(ctx: Context, action: Action) -> list[int | None]:
    """The units the member may act on; [None] means every unit (an admin)."""
    assert ctx.account.member is not None
    grants: list[Grant] = await ctx.services.permissions.scope(ctx.account.member.id, action)
    if any(g.role is Role.ADMIN for g in grants):
        return [None]
    return sorted({g.organisation_id for g in grants if g.organisation_id is not None})


@members_only
async def activation_codes(ctx: Context) -> list[Reply]:
    member = ctx.account.member
    assert member is not None
    units = await _units(ctx, Action.ISSUE_CODES)
    if not units:
        return [Reply(text("secretary.not_allowed"))]
    replies = []
    for unit in units:
        # An admin in chat issues for the unit they belong to; the command line covers the rest.
        unit_id = member.organisation_id if unit is None else unit
        issued = await ctx.services.codes.issue_for_unit(
            unit_id, issued_by=f"member:{member.id}", now=ctx.services.clock()
        )
        await ctx.services.audit.record(
            f"member:{member.id}", "codes.issue", f"unit:{unit_id}", count=len(issued)
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


@members_only
async def adoption_report(ctx: Context) -> list[Reply]:
    units = await _units(ctx, Action.VIEW_REPORTS)
    if not units:
        return [Reply(text("secretary.not_allowed"))]
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
    return [Reply("\n".join(lines))]


def register(router: Router) -> None:
    router.command("macode")(activation_codes)
    router.command("baocao")(adoption_report)
