"""Linking a messenger account to a member: consent, then card number and a shared phone
(Telegram), or an activation code; unlinking."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Aside, Context, Router
from bot.services.conversations import FlowState
from bot.services.linking import MAX_FAILURES, LinkAttempt, LinkResult, looks_like_code
from bot.services.permissions import Action
from bot.texts import text
from handlers import tour
from handlers.privacy import confirm_buttons

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


class Unlink(ButtonData, prefix="unlink"):
    """The answer to /huylienket's question about this account."""

    answer: Answer


class UnlinkMember(ButtonData, prefix="unlinkm"):
    """A secretary's «yes» to freeing a member's accounts; the id is checked against the
    scope again when pressed, as it can be forged."""

    member: int


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
        welcome = _welcome_linked(member.full_name, member.organisation_name)
        return [welcome, await tour.first_step(ctx, member)]
    if attempt.result is LinkResult.LOCKED:
        await services.conversations.clear(ctx.account.id)
        until = attempt.locked_until or services.clock()
        return [Reply(text("link.locked", until=_local_time(ctx, until)), clear_keyboard=True)]
    if attempt.result in (LinkResult.CARD_LOCKED, LinkResult.BUSY):
        # The step stays: a code may be typed instead, or the same tried again later.
        key = "link.card_locked" if attempt.result is LinkResult.CARD_LOCKED else "link.busy"
        return [Reply(text(key))]
    if attempt.result is LinkResult.ALREADY_LINKED:
        await services.conversations.clear(ctx.account.id)
        return [Reply(text("link.already_linked"), clear_keyboard=True)]
    left = await _attempts_left(ctx)
    if attempt.result is LinkResult.NOT_OWN_CONTACT:
        return [_contact_prompt("link.not_own_contact", left=left)]
    key = {
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
    return [Reply(text("start.welcome")), _consent_question("link.consent")]


def _consent_question(key: str) -> Reply:
    """The consent question (or its hint) with its two buttons: a hint without them would
    leave nothing for "1" or "2" to answer on Zalo."""
    return Reply(
        text(key),
        buttons=(
            (
                Button(text("link.button_agree"), Consent(Answer.YES).pack()),
                Button(text("link.button_disagree"), Consent(Answer.NO).pack()),
            ),
        ),
    )


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
        return [_consent_question("link.consent_pending")]
    if incoming.contact is not None and state.step == Step.CONTACT:
        attempt = await linking.link_by_contact(
            ctx.account.id,
            state.data.get("member_id"),
            state.data.get("card_key"),
            incoming.sender_id,
            incoming.contact,
        )
        return await _outcome(ctx, attempt)
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
    if attempt.result is LinkResult.CARD_TAKEN:
        # Known card or not, the same step follows: the phone check tells them apart.
        data = {"member_id": attempt.member_id, "card_key": attempt.card_key}
        await ctx.services.conversations.start(ctx.account.id, FLOW, Step.CONTACT, data)
        return [_contact_prompt("link.ask_contact")]
    return await _outcome(ctx, attempt)


async def unlink(ctx: Context) -> list[Reply]:
    """`/huylienket` unlinks this account; `/huylienket <card>` is a secretary unlinking a
    member of their own units."""
    card = ctx.incoming.command_args
    if card:
        return await _unlink_member(ctx, card)
    if not ctx.account.linked:
        return [Reply(text("link.not_linked"))]
    buttons = confirm_buttons(Unlink(Answer.YES).pack(), Unlink(Answer.NO).pack())
    return [Reply(text("link.unlink_confirm"), buttons=buttons)]


async def unlink_answer(ctx: Context) -> list[Reply]:
    if ctx.pressed(Unlink).answer is not Answer.YES:
        return [Reply(text("unlink.kept"))]
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
    buttons = confirm_buttons(UnlinkMember(target.id).pack(), Unlink(Answer.NO).pack())
    return [Reply(text("unlink.confirm", name=target.full_name), buttons=buttons)]


async def unlink_member_answer(ctx: Context) -> list[Reply]:
    secretary = ctx.account.member
    if secretary is None:
        return [Reply(text("link.required"))]
    try:
        target = await ctx.services.accounts.member(ctx.pressed(UnlinkMember).member)
    except LookupError:
        target = None
    allowed = target is not None and await ctx.services.permissions.can(
        secretary.id, Action.ISSUE_CODES, target.organisation_id
    )
    if target is None or not allowed:
        return [Reply(text("unlink.not_found"))]
    count = await ctx.services.linking.unlink_member(target.id, actor=f"member:{secretary.id}")
    key = "unlink.done" if count else "unlink.none"
    return [Reply(text(key, count=count, name=target.full_name))]


def _reminder(ctx: Context) -> Reply:
    """Where linking stands, after a handbook question asked in the middle of it."""
    step = ctx.state.step if ctx.state is not None else None
    if step == Step.CONSENT:
        return Reply(text("link.aside_consent"))
    if step == Step.CONTACT:
        return Reply(text("link.aside_contact", button=text("link.button_contact")))
    return Reply(text("link.aside_card" if ctx.traits.can_share_contact else "link.aside_code"))


def _takes(state: FlowState, typed: str) -> bool:
    """A card number (digits, maybe spaced) or a code (one word) is the step's, whatever
    the handbook makes of it."""
    return state.step != Step.CONSENT and (not looks_like_code(typed) or len(typed.split()) == 1)


def register(router: Router) -> None:
    router.command("start")(start)
    router.button(Consent)(consent)
    router.flow(FLOW, aside=Aside(_reminder, takes=_takes))(link_step)
    router.command("huylienket")(unlink)
    router.button(Unlink)(unlink_answer)
    router.button(UnlinkMember)(unlink_member_answer)
