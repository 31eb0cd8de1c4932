"""Thông báo: compose a notice for units in scope, see who will receive it on which
messenger, send it through the outbox, and follow its delivery (the page refreshes itself
until every row has an outcome), with who was not reached and why."""

from __future__ import annotations

from collections import Counter

from aiohttp import web

from bot.services.broadcasts import MAX_NOTICE_CHARS
from bot.services.outbox import FINAL, Status, recipients
from bot.services.permissions import Action, Scope
from bot.texts import text
from bot.web.console import (
    SESSION,
    Refused,
    forbidden,
    not_found,
    render,
    scope_for,
    see_other,
    services_of,
    units_in,
    viewer_of,
)
from bot.web.paths import ADMIN_PREFIX

STATUS_NAMES = {
    Status.PENDING: "Đang chờ gửi",
    Status.SENDING: "Đang gửi",
    Status.SENT: "Đã gửi",
    Status.FAILED: "Gửi lỗi",
    Status.BLOCKED: "Đã chặn bot",
    Status.SKIPPED: "Chưa liên kết tài khoản",
    Status.CANCELLED: "Đã dừng",
}
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "Bảng điều khiển"}


async def _form(request: web.Request, scope: Scope) -> tuple[str, list[int]]:
    """The posted notice and units, checked: a 400 page for an empty or long text or no
    unit, a 403 page for a unit outside the scope."""
    form = await request.post()
    body = str(form.get("text", "")).strip()
    chosen = [str(v) for v in form.getall("unit", [])]
    if not body or len(body) > MAX_NOTICE_CHARS or not chosen:
        raise Refused(
            400,
            f"Hãy viết nội dung (tối đa {MAX_NOTICE_CHARS} ký tự) và chọn ít nhất một đơn vị.",
        )
    if not all(value.isdigit() for value in chosen):
        raise forbidden()
    units = sorted({int(value) for value in chosen})
    if not await services_of(request).permissions.within(scope, units):
        raise forbidden()
    return body, units


def _signature(request: web.Request) -> str:
    member = viewer_of(request).member
    return text("broadcast.signature_member", name=member.full_name, unit=member.organisation_name)


async def compose(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.BROADCAST)
    return render(
        request,
        "notice_compose.html",
        units=await units_in(request, scope),
        max_chars=MAX_NOTICE_CHARS,
    )


async def preview(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.BROADCAST)
    body, units = await _form(request, scope)
    services = services_of(request)
    audience = await services.broadcasts.audience(units)
    reached = await recipients(request[SESSION], audience.member_ids)
    per_channel = Counter(r.channel for r in reached if r.account_id and r.channel)
    return render(
        request,
        "notice_preview.html",
        body=body,
        units=units,
        names=await services.accounts.unit_names(units),
        total=len(audience.member_ids),
        not_linked=len(audience.member_ids) - sum(per_channel.values()),
        per_channel=[(CHANNEL_NAMES.get(c, c), n) for c, n in sorted(per_channel.items())],
        notice=text("broadcast.notice", text=body, signature=_signature(request)),
    )


async def send(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.BROADCAST)
    body, units = await _form(request, scope)
    viewer = viewer_of(request)
    broadcast_id, _counts = await services_of(request).broadcasts.send(
        actor=viewer.ref,
        body=body,
        unit_ids=units,
        signature=_signature(request),
        sender_member_id=viewer.member.id,
        scope=scope,
    )
    return see_other(f"{ADMIN_PREFIX}/thong-bao/{broadcast_id}")


async def report(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.BROADCAST)
    raw = request.match_info["broadcast"]
    services = services_of(request)
    broadcast = await services.broadcasts.get(int(raw)) if raw.isdigit() else None
    if broadcast is None or not (
        broadcast.sender_member_id == viewer_of(request).member.id
        or await services.permissions.within(scope, broadcast.unit_ids)
    ):
        raise not_found()
    counts = await services.outbox.counts(broadcast.id)
    waiting = counts[Status.PENDING] + counts[Status.SENDING]
    return render(
        request,
        "notice_report.html",
        broadcast=broadcast,
        names=await services.accounts.unit_names(broadcast.unit_ids),
        counts=[(STATUS_NAMES[s], counts[s]) for s in (Status.PENDING, *FINAL) if counts[s]],
        total=sum(counts.values()),
        waiting=waiting,
        unreached=[
            (u.name, u.unit, STATUS_NAMES[u.status])
            for u in await services.broadcasts.unreached(broadcast.id)
        ],
        timezone=services.settings.timezone,
    )
