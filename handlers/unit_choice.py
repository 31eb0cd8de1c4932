"""Choosing units within one's scope, for the conversations that act on units (/taohop,
/taphuan, /taoquiz, /thongbao): the units offered, the menu that ticks several of them, and
the check, before anything is saved, that a unit chosen was offered and is still allowed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.messages import Button
from bot.router import Context
from bot.services.permissions import Actor, Scope


async def unit_options(ctx: Context, actor: Actor) -> list[int]:
    """The units a menu offers the actor (PermissionService.units_to_offer)."""
    return await ctx.services.permissions.units_to_offer(actor.scope, actor.member.organisation_id)


async def units_allowed(
    ctx: Context, scope: Scope, offered: Sequence[int], units: Sequence[int]
) -> bool:
    """The units were offered and are still within the scope: a forged button naming
    another unit fails here."""
    return (
        bool(units)
        and all(unit in offered for unit in units)
        and await ctx.services.permissions.within(scope, units)
    )


def toggled(offered: Sequence[int], chosen: Sequence[int], unit: int) -> list[int]:
    """`chosen` with `unit` ticked or unticked, in the order the units are offered."""
    return [u for u in offered if (u in chosen) != (u == unit)]


async def toggle_rows(
    ctx: Context, offered: Sequence[int], chosen: Sequence[int], data: Callable[[int], str]
) -> list[tuple[Button, ...]]:
    """A button per unit offered, ☑ when chosen; `data` names what a tap on it does."""
    names = await ctx.services.accounts.unit_names(offered)
    return [
        (Button(f"{'☑' if unit in chosen else '☐'} {name}", data(unit)),)
        for unit, name in zip(offered, names, strict=True)
    ]
