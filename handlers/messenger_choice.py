"""/kenh: a member linked on both Telegram and Zalo chooses which one receives the bot's
notices and reminders (only one ever does)."""

from __future__ import annotations

from bot.button_data import ButtonData
from bot.messages import Button, Channel, Reply
from bot.router import Context, Router
from bot.services.accounts import MESSENGERS, MemberView
from bot.texts import text
from handlers.guards import members_only


class Prefer(ButtonData, prefix="kenh"):
    channel: Channel


def _name(channel: str) -> str:
    return text(f"channel.name_{channel}")


@members_only
async def show(ctx: Context, member: MemberView) -> list[Reply]:
    accounts = ctx.services.accounts
    member_id = member.id
    linked = await accounts.linked_channels(member_id)
    current = await accounts.notice_channel(member_id)
    if current is None:
        # A demo seat in the console: the outbox delivers to console accounts when the
        # member has no other messenger, so the bot's messages do reach this window.
        if ctx.incoming.channel == Channel.CONSOLE:
            return [Reply(text("channel.console"))]
        return [Reply(text("channel.none"))]
    if len(linked) == 1:
        missing = next(channel for channel in MESSENGERS if channel not in linked)
        how = text(f"channel.how_{missing}")
        return [Reply(text("channel.only_one", channel=_name(current), how=how))]
    buttons = tuple(Button(_name(c), Prefer(c).pack()) for c in MESSENGERS if c in linked)
    return [Reply(text("channel.current", channel=_name(current)), buttons=(buttons,))]


@members_only
async def choose(ctx: Context, member: MemberView) -> list[Reply]:
    channel = ctx.pressed(Prefer).channel
    if not await ctx.services.accounts.set_preferred_channel(member.id, channel):
        return [Reply(text("fallback.stale_button"))]
    return [Reply(text("channel.chosen", channel=_name(channel)))]


def register(router: Router) -> None:
    router.command("kenh")(show)
    router.button(Prefer)(choose)
