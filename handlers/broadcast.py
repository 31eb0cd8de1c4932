"""Secretaries' notices: /thongbao writes one, chooses units within the sender's scope,
previews the audience and confirms; /thongbao_chitiet lists who was not reached and
/thongbao_huy stops what is still pending."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Attachment, Button, Channel, Media, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.broadcasts import MAX_NOTICE_CHARS
from bot.services.notices import BroadcastNotice, BroadcastProgress, BroadcastReport
from bot.services.outbox import Status
from bot.services.permissions import Action, Actor
from bot.texts import text
from handlers.guards import members_only, requires
from handlers.unit_choice import toggle_rows, unit_options, units_allowed

FLOW = "broadcast"


class Step(StrEnum):
    TEXT = "text"
    UNITS = "units"


class ToggleUnit(ButtonData, prefix="bcu"):
    unit: int


class Decision(StrEnum):
    PREVIEW = "preview"
    SEND = "send"
    CANCEL = "cancel"


class Decide(ButtonData, prefix="bc"):
    decision: Decision


_REASONS = {
    Status.SKIPPED: "broadcast.reason_skipped",
    Status.BLOCKED: "broadcast.reason_blocked",
    Status.FAILED: "broadcast.reason_failed",
    Status.CANCELLED: "broadcast.reason_cancelled",
    Status.PENDING: "broadcast.reason_pending",
    Status.SENDING: "broadcast.reason_pending",
}


def render_notice(notice: BroadcastNotice, timezone: ZoneInfo) -> Reply:
    body = text("broadcast.notice", text=notice.body, signature=notice.signature)
    return Reply(body, media=notice.media)


def render_progress(notice: BroadcastProgress, timezone: ZoneInfo) -> Reply:
    counts = notice.counts
    reachable = sum(counts[s] for s in Status if s not in (Status.SKIPPED, Status.CANCELLED))
    return Reply(
        text(
            "broadcast.progress",
            id=notice.broadcast_id,
            sent=counts[Status.SENT],
            reachable=reachable,
            failed=counts[Status.FAILED],
            blocked=counts[Status.BLOCKED],
            pending=counts[Status.PENDING] + counts[Status.SENDING],
        )
    )


def render_report(notice: BroadcastReport, timezone: ZoneInfo) -> Reply:
    counts = notice.counts
    return Reply(
        text(
            "broadcast.report",
            id=notice.broadcast_id,
            sent=counts[Status.SENT],
            failed=counts[Status.FAILED],
            blocked=counts[Status.BLOCKED],
            skipped=counts[Status.SKIPPED],
            cancelled=counts[Status.CANCELLED],
        )
    )


async def _sender(ctx: Context, member: MemberView) -> Actor:
    return await ctx.services.permissions.actor(member, Action.BROADCAST)


async def _may_send_to(ctx: Context, actor: Actor, unit_ids: list[int]) -> bool:
    return await ctx.services.permissions.within(actor.scope, unit_ids)


@requires(Action.BROADCAST)
async def start(ctx: Context, actor: Actor) -> list[Reply]:
    options = await unit_options(ctx, actor)
    await ctx.services.conversations.start(
        ctx.account.id, FLOW, Step.TEXT, {"options": options, "units": options[:1]}
    )
    return [Reply(text("broadcast.ask_text", limit=MAX_NOTICE_CHARS))]


async def _unit_menu(ctx: Context, data: dict[str, Any]) -> Reply:
    rows = await toggle_rows(
        ctx, data["options"], data["units"], lambda unit: ToggleUnit(unit).pack()
    )
    rows.append(
        (
            Button(text("broadcast.button_preview"), Decide(Decision.PREVIEW).pack()),
            Button(text("broadcast.button_cancel"), Decide(Decision.CANCEL).pack()),
        )
    )
    return Reply(text("broadcast.choose_units"), buttons=tuple(rows))


def _media_data(media: Media) -> dict[str, str]:
    return {"kind": media.kind, "file_id": media.file_id, "channel": media.channel}


def _media(data: dict[str, Any]) -> Media | None:
    stored = data.get("media")
    if stored is None:
        return None
    return Media(Attachment(stored["kind"]), stored["file_id"], Channel(stored["channel"]))


async def write_step(ctx: Context) -> list[Reply]:
    """The notice's text after /thongbao, or a photo or document (its caption the text);
    a photo or document sent while choosing units replaces the one kept."""
    state = ctx.state
    assert state is not None
    data = dict(state.data)
    media = ctx.incoming.media
    if media is not None:
        data["media"] = _media_data(media)
    body = (ctx.incoming.text or "").strip()
    if state.step == Step.UNITS and not body:
        await ctx.services.conversations.start(ctx.account.id, FLOW, Step.UNITS, data)
        return [await _unit_menu(ctx, data)]
    if not body:
        await ctx.services.conversations.start(ctx.account.id, FLOW, Step.TEXT, data)
        key = "broadcast.media_received" if media is not None else "broadcast.ask_text"
        return [Reply(text(key, limit=MAX_NOTICE_CHARS))]
    if len(body) > MAX_NOTICE_CHARS:
        return [Reply(text("broadcast.too_long", limit=MAX_NOTICE_CHARS))]
    data["text"] = body
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.UNITS, data)
    return [await _unit_menu(ctx, data)]


def _in_flow(ctx: Context) -> bool:
    state = ctx.state
    return state is not None and state.flow == FLOW and "text" in state.data


@members_only
async def toggle_unit(ctx: Context, member: MemberView) -> list[Reply]:
    if not _in_flow(ctx):
        return [Reply(text("fallback.stale_button"))]
    assert ctx.state is not None
    unit = ctx.pressed(ToggleUnit).unit
    data = dict(ctx.state.data)
    # Only units offered, and still within the sender's scope, can be chosen.
    scope = (await _sender(ctx, member)).scope
    if not await units_allowed(ctx, scope, data["options"], [unit]):
        return [Reply(text("secretary.not_allowed"))]
    chosen = list(data["units"])
    data["units"] = [u for u in chosen if u != unit] if unit in chosen else [*chosen, unit]
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.UNITS, data)
    return [await _unit_menu(ctx, data)]


def _signature(member: MemberView) -> str:
    return text("broadcast.signature_member", name=member.full_name, unit=member.organisation_name)


@members_only
async def step_button(ctx: Context, member: MemberView) -> list[Reply]:
    if not _in_flow(ctx):
        return [Reply(text("fallback.stale_button"))]
    assert ctx.state is not None
    data = ctx.state.data
    units: list[int] = list(data["units"])
    broadcasts = ctx.services.broadcasts
    decision = ctx.pressed(Decide).decision
    if decision is Decision.CANCEL:
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(text("cancel.done"))]
    if not units:
        return [Reply(text("broadcast.no_units")), await _unit_menu(ctx, data)]
    actor = await _sender(ctx, member)
    if not await _may_send_to(ctx, actor, units):
        return [Reply(text("secretary.not_allowed"))]
    if decision is Decision.PREVIEW:
        timezone = ctx.services.settings.timezone
        audience = await broadcasts.audience(units)
        names = await ctx.services.accounts.unit_names(units)
        preview = text(
            "broadcast.preview",
            units=", ".join(names),
            total=len(audience.member_ids),
            linked=audience.linked,
            not_linked=audience.not_linked,
            notice=render_notice(BroadcastNotice(data["text"], _signature(member)), timezone).text,
        )
        buttons = (
            (
                Button(text("broadcast.button_send"), Decide(Decision.SEND).pack()),
                Button(text("broadcast.button_cancel"), Decide(Decision.CANCEL).pack()),
            ),
        )
        return [Reply(preview, buttons=buttons, media=_media(data))]
    broadcast_id, counts = await broadcasts.send(
        actor=actor.ref,
        body=data["text"],
        unit_ids=units,
        signature=_signature(member),
        sender_member_id=member.id,
        sender_account_id=ctx.account.id,
        media=_media(data),
        scope=actor.scope,
    )
    await ctx.services.conversations.clear(ctx.account.id)
    # Progress follows as one message the dispatcher edits, then the final report.
    return [Reply(text("broadcast.queued", id=broadcast_id, linked=counts[Status.PENDING]))]


async def _own_broadcast(
    ctx: Context, member: MemberView, command: str
) -> tuple[int | None, list[Reply]]:
    """The broadcast named in the command, if the member sent it or may send to its units."""
    argument = ctx.incoming.command_args
    if not argument.isdigit():
        return None, [Reply(text("broadcast.usage_id", command=command))]
    broadcast = await ctx.services.broadcasts.get(int(argument))
    if broadcast is None or not (
        broadcast.sender_member_id == member.id
        or await _may_send_to(ctx, await _sender(ctx, member), broadcast.unit_ids)
    ):
        return None, [Reply(text("broadcast.not_found", id=argument))]
    return broadcast.id, []


@members_only
async def details(ctx: Context, member: MemberView) -> list[Reply]:
    broadcast_id, problem = await _own_broadcast(ctx, member, "thongbao_chitiet")
    if broadcast_id is None:
        return problem
    missing = await ctx.services.broadcasts.unreached(broadcast_id)
    if not missing:
        return [Reply(text("broadcast.unreached_none", id=broadcast_id))]
    lines = [text("broadcast.unreached_title", id=broadcast_id)]
    lines += [
        text("broadcast.unreached_line", name=m.name, unit=m.unit, reason=text(_REASONS[m.status]))
        for m in missing
    ]
    return [Reply("\n".join(lines))]


@members_only
async def cancel(ctx: Context, member: MemberView) -> list[Reply]:
    broadcast_id, problem = await _own_broadcast(ctx, member, "thongbao_huy")
    if broadcast_id is None:
        return problem
    count = await ctx.services.broadcasts.cancel(broadcast_id, actor=f"member:{member.id}")
    return [Reply(text("broadcast.cancelled", count=count, id=broadcast_id))]


def register(router: Router) -> None:
    router.command("thongbao")(start)
    router.flow(FLOW, takes_media=True)(write_step)
    router.button(ToggleUnit)(toggle_unit)
    router.button(Decide)(step_button)
    router.command("thongbao_chitiet")(details)
    router.command("thongbao_huy")(cancel)
