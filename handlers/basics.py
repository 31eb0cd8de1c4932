"""Start, help, cancel, and the polite answers to anything the bot cannot use."""

from __future__ import annotations

from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Attachment, Button, Reply
from bot.router import Context, Router
from bot.texts import text


class Topic(StrEnum):
    """The help menu's entries, in the order shown; each has the texts help.button_<topic>
    and help.<topic>."""

    ASK = "ask"
    MEETINGS = "meetings"
    QUIZ = "quiz"
    LINK = "link"
    PRIVACY = "privacy"
    SECRETARY = "secretary"
    ABOUT = "about"


class HelpTopic(ButtonData, prefix="help"):
    topic: Topic


def help_menu() -> Reply:
    buttons = [Button(text(f"help.button_{t}"), HelpTopic(t).pack()) for t in Topic]
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return Reply(text("help.menu"), buttons=rows)


async def start(ctx: Context) -> list[Reply]:
    member = ctx.account.member
    if member is None:
        return [Reply(text("start.welcome"))]
    return [
        Reply(text("start.welcome_linked", name=member.full_name, unit=member.organisation_name))
    ]


async def show_help(ctx: Context) -> list[Reply]:
    return [help_menu()]


async def help_topic(ctx: Context) -> list[Reply]:
    return [Reply(text(f"help.{ctx.pressed(HelpTopic).topic}"))]


async def cancel(ctx: Context) -> list[Reply]:
    left = await ctx.services.conversations.clear(ctx.account.id)
    return [Reply(text("cancel.done" if left else "cancel.nothing"))]


async def unknown_command(ctx: Context) -> list[Reply]:
    return [Reply(text("fallback.unknown_command", command=ctx.incoming.command or ""))]


async def stale_button(ctx: Context) -> list[Reply]:
    return [Reply(text("fallback.stale_button"))]


async def attachment(ctx: Context) -> list[Reply]:
    if ctx.incoming.attachment is Attachment.UNSUPPORTED:
        return [Reply(text("fallback.unsupported"))]
    return [Reply(text("fallback.attachment"))]


async def empty(ctx: Context) -> list[Reply]:
    if ctx.incoming.contact is not None:
        return [Reply(text("fallback.contact"))]
    return [Reply(text("fallback.empty"))]


def register(router: Router) -> None:
    router.command("help", "trogiup")(show_help)
    router.command("cancel", "huy")(cancel)
    router.button(HelpTopic)(help_topic)
    router.fallback("unknown_command")(unknown_command)
    router.fallback("stale_button")(stale_button)
    router.fallback("attachment")(attachment)
    router.fallback("empty")(empty)
