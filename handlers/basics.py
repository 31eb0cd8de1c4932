"""Start, help, cancel, and the polite answers to anything the bot cannot use."""

from __future__ import annotations

from bot.messages import Attachment, Button, Reply
from bot.router import Context, Router
from bot.texts import text

# Help menu entries: button payload → text key. The order is the order shown.
_HELP_TOPICS = {
    "ask": ("help.button_ask", "help.ask"),
    "meetings": ("help.button_meetings", "help.meetings"),
    "quiz": ("help.button_quiz", "help.quiz"),
    "link": ("help.button_link", "help.link"),
    "privacy": ("help.button_privacy", "help.privacy"),
    "secretary": ("help.button_secretary", "help.secretary"),
    "about": ("help.button_about", "help.about"),
}


def help_menu() -> Reply:
    buttons = [Button(text(label), f"help:{key}") for key, (label, _) in _HELP_TOPICS.items()]
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
    topic = _HELP_TOPICS.get(ctx.button_payload)
    if topic is None:
        return [Reply(text("fallback.stale_button"))]
    return [Reply(text(topic[1]))]


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
    router.button("help")(help_topic)
    router.fallback("unknown_command")(unknown_command)
    router.fallback("stale_button")(stale_button)
    router.fallback("attachment")(attachment)
    router.fallback("empty")(empty)
