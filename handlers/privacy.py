"""A member's data rights: see what is stored, erase it, withdraw consent."""

from __future__ import annotations

import json
from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Document, Reply
from bot.router import Context, Router
from bot.texts import text


class Choice(StrEnum):
    YES = "yes"
    NO = "no"


class Erase(ButtonData, prefix="erase"):
    choice: Choice


class Withdraw(ButtonData, prefix="withdraw"):
    """The answer to /rutdongy's question: withdrawing unlinks too, so it is asked first."""

    choice: Choice


def confirm_buttons(yes: str, no: str) -> tuple[tuple[Button, ...], ...]:
    """«Yes, do it» and «No, keep it» on one row."""
    return ((Button(text("privacy.button_confirm"), yes), Button(text("privacy.button_keep"), no)),)


async def my_data(ctx: Context) -> list[Reply]:
    data = await ctx.services.linking.personal_data(ctx.account.id)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return [Reply(text("privacy.data_summary"), document=Document("du-lieu-ca-nhan.json", content))]


async def erase_request(ctx: Context) -> list[Reply]:
    buttons = (
        (
            Button(text("privacy.button_erase"), Erase(Choice.YES).pack()),
            Button(text("privacy.button_keep"), Erase(Choice.NO).pack()),
        ),
    )
    return [Reply(text("privacy.erase_confirm"), buttons=buttons)]


async def erase_answer(ctx: Context) -> list[Reply]:
    if ctx.pressed(Erase).choice is not Choice.YES:
        return [Reply(text("privacy.kept"))]
    await ctx.services.linking.erase(ctx.account.id)
    # The core stores this reply's numbered choices next (on Zalo): not on the deleted row.
    ctx.services.conversations.forget_read(ctx.account.id)
    return [Reply(text("privacy.erased"), clear_keyboard=True)]


async def withdraw_request(ctx: Context) -> list[Reply]:
    buttons = confirm_buttons(Withdraw(Choice.YES).pack(), Withdraw(Choice.NO).pack())
    return [Reply(text("privacy.withdraw_confirm"), buttons=buttons)]


async def withdraw_answer(ctx: Context) -> list[Reply]:
    if ctx.pressed(Withdraw).choice is not Choice.YES:
        return [Reply(text("privacy.kept"))]
    await ctx.services.linking.withdraw_consent(ctx.account.id)
    await ctx.services.conversations.clear(ctx.account.id)
    return [Reply(text("privacy.consent_withdrawn"), clear_keyboard=True)]


def register(router: Router) -> None:
    router.command("dulieu")(my_data)
    router.command("xoadulieu")(erase_request)
    router.button(Erase)(erase_answer)
    router.command("rutdongy")(withdraw_request)
    router.button(Withdraw)(withdraw_answer)
