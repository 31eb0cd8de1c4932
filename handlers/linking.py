"""Linking a messenger account to a member: consent, then card number and a shared phone
(Telegram), or an activation code; unlinking."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.linking import MAX_FAILURES, LinkAttempt, LinkResult, looks_like_code
from bot.services.permissions import Action
from bot.texts import text
from handlers.tour import Tour, step_reply

FLOW = "link"


class Step(StrEnum):
    CONSENT = "consent"
    CARD = "card"
    CONTACT = "contact"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"


class Consent(ButtonData, prefix="consent"):
    answer: Answer


def _welcome_linked(name: str, unit: str) -> Reply:
    return Reply(text("link.linked", name=name, unit=unit), clear_keyboard=True)


def _contact_prompt(key: str, **values: object) -> Reply:
    label = text("link.button_contact")
    return Reply(text(key, button=label, **values), contact_request=label)


def _local_time(ctx: Context, moment: datetime) -> str:
    return moment.astimezone(ctx.services.settings.timezone).strftime("%H:%M ngày %d/%m/%Y")


async def _attempts_left(ctx: Context) -> int:
    return MAX_FAILURES - await ctx.services.linking.failures(ctx.account.id)


async def _outcome(ctx: Context, attempt: LinkAttempt) -> list[Reply]:
    """The reply for a finished linking attempt, and the flow state that follows it."""
    services = ctx.services
    if attempt.result is LinkResult.LINKED:
        await services.conversations.clear(ctx.account.id)
        member = await services.accounts.member(attempt.member_id or 0)
        tour = await step_reply(ctx, member, Tour.MEMBER, 1)
        return [_welcome_linked(member.full_name, member.organisation_name), tour]
    if attempt.result is LinkResult.LOCKED:
        await services.conversations.clear(ctx.account.id)
        until = attempt.locked_until or services.clock()
        return [Reply(text("link.locked", until=_local_time(ctx, until)), clear_keyboard=True)]
    if attempt.result is LinkResult.ALREADY_LINKED:
        await services.conversations.clear(ctx.account.id)
        return [Reply(text("link.already_linked"), clear_keyboard=True)]
    left = await _attempts_left(ctx)
    if attempt.result is LinkResult.NOT_OWN_CONTACT:
        return [_contact_prompt("link.not_own_contact", left=left)]
    key = {
        LinkResult.UNKNOWN_CARD: "link.unknown_card",
        LinkResult.PHONE_MISMATCH: "link.phone_mismatch",
        LinkResult.BAD_CODE: "link.bad_code",
    }[attempt.result]
    return [Reply(text(key, left=left))]


async def start(ctx: Context) -> list[Reply]:
    member = ctx.account.member
    if member is not None:
        return [
            Reply(
                text("start.welcome_linked", name=member.full_name, unit=member.organisation_name)
            )
        ]
    locked = await ctx.services.linking.locked_until(ctx.account.id)
    if locked is not None:
        return [Reply(text("link.locked", until=_local_time(ctx, locked)))]
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.CONSENT)
    consent = Reply(
        text("link.consent"),
        buttons=(
            (
                Button(text("link.button_agree"), Consent(Answer.YES).pack()),
                Button(text("link.button_disagree"), Consent(Answer.NO).pack()),
            ),
        ),
    )
    return [Reply(text("start.welcome")), consent]


async def consent(ctx: Context) -> list[Reply]:
    state = ctx.state
    if ctx.account.linked or state is None or state.flow != FLOW:
        return [Reply(text("fallback.stale_button"))]
    if ctx.pressed(Consent).answer is not Answer.YES:
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(text("link.declined"))]
    await ctx.services.linking.record_consent(ctx.account.id)
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.CARD)
    return [Reply(text("link.ask_card" if ctx.traits.can_share_contact else "link.ask_code"))]


async def link_step(ctx: Context) -> list[Reply]:
    """Text or a contact while linking; consent must have been given by button."""
    state = ctx.state
    assert state is not None
    linking = ctx.services.linking
    incoming = ctx.incoming
    if state.step == Step.CONSENT:
        return [Reply(text("link.consent_pending"))]
    if incoming.contact is not None and state.step == Step.CONTACT:
        member_id = int(state.data["member_id"])
        return await _outcome(
            ctx,
            await linking.link_by_contact(
                ctx.account.id, member_id, incoming.sender_id, incoming.contact
            ),
        )
    entered = (incoming.text or "").strip()
    if entered and looks_like_code(entered):
        return await _outcome(ctx, await linking.link_by_code(ctx.account.id, entered))
    if state.step == Step.CONTACT:
        return [_contact_prompt("link.contact_or_code")]
    if not entered:
        return [Reply(text("link.ask_card"))]
    if not ctx.traits.can_share_contact:
        return [Reply(text("link.code_needed"))]
    attempt = await linking.check_card(ctx.account.id, entered)
    if attempt.result is LinkResult.CARD_FOUND:
        await ctx.services.conversations.start(
            ctx.account.id, FLOW, Step.CONTACT, {"member_id": attempt.member_id}
        )
        return [_contact_prompt("link.ask_contact")]
    return await _outcome(ctx, attempt)


async def unlink(ctx: Context) -> list[Reply]:
    """`/huylienket` unlinks this account; `/huylienket <card>` is a secretary unlinking a
    member of their own units."""
    card = ctx.incoming.command_args
    if card:
        return await _unlink_member(ctx, card)
    done = await ctx.services.linking.unlink(ctx.account.id, actor=f"account:{ctx.account.id}")
    return [Reply(text("link.unlinked" if done else "link.not_linked"))]


async def _unlink_member(ctx: Context, card: str) -> list[Reply]:
    secretary = ctx.account.member
    if secretary is None:
        return [Reply(text("link.required"))]
    target = await ctx.services.linking.member_by_card(card)
    allowed = target is not None and await ctx.services.permissions.can(
        secretary.id, Action.ISSUE_CODES, target.organisation_id
    )
    if target is None or not allowed:
        # The same answer either way: a card outside one's units is not revealed.
        return [Reply(text("unlink.not_found"))]
    count = await ctx.services.linking.unlink_member(target.id, actor=f"member:{secretary.id}")
    key = "unlink.done" if count else "unlink.none"
    return [Reply(text(key, count=count, name=target.full_name))]


def register(router: Router) -> None:
    router.command("start")(start)
    router.button(Consent)(consent)
    router.flow(FLOW)(link_step)
    router.command("huylienket")(unlink)
