"""Choosing units within one's grants, for the conversations that act on units (/taohop,
/taphuan, /taoquiz): the units offered, the menu that ticks several of them, and the check,
before anything is saved, that a unit chosen was offered and is still allowed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.messages import Button
from bot.router import Context
from bot.services.permissions import Action, Role

MAX_UNIT_CHOICES = 12


async def unit_options(ctx: Context, action: Action) -> list[int]:
    """Units the member may act on: each granted unit and the units right under it (an
    admin: their own unit and those under it)."""
    member = ctx.account.member
    assert member is not None
    grants = await ctx.services.permissions.scope(member.id, action)
    if any(g.role is Role.ADMIN for g in grants):
        roots = [member.organisation_id]
    else:
        roots = [g.organisation_id for g in grants if g.organisation_id is not None]
    return (await ctx.services.accounts.units_with_children(roots))[:MAX_UNIT_CHOICES]


async def units_allowed(
    ctx: Context, action: Action, offered: Sequence[int], units: Sequence[int]
) -> bool:
    """The units were offered and are still within the member's grants: a forged button
    naming another unit fails here."""
    member = ctx.account.member
    assert member is not None
    permissions = ctx.services.permissions
    return (
        bool(units)
        and all(unit in offered for unit in units)
        and all([await permissions.can(member.id, action, unit) for unit in units])
    )


def toggled(offered: Sequence[int], chosen: Sequence[int], unit: int) -> list[int]:
    """`chosen` with `unit` ticked or unticked, in the order the units are offered."""
    return [u for u in offered if (u in chosen) != (u == unit)]


async def toggle_rows(
    ctx: Context, offered: Sequence[int], chosen: Sequence[int], data: Callable[[int], str]
) -> list[tuple[Button, ...]]:
    """A button per unit offered, ☑ when chosen; `data` names what a tap on it does."""
    rows = []
    for unit in offered:
        mark = "☑" if unit in chosen else "☐"
        name = await ctx.services.accounts.unit_name(unit)
        rows.append((Button(f"{mark} {name}", data(unit)),))
    return rows
