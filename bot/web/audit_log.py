"""Nhật ký: the audit log, filtered by person, act and date; for admins only."""

from __future__ import annotations

from datetime import date, datetime, time

from aiohttp import web

from bot.web.console import forbidden, render, services_of, viewer_of

SHOWN = 200


async def audit_log(request: web.Request) -> web.Response:
    if not viewer_of(request).is_admin:
        raise forbidden()
    services = services_of(request)
    timezone = services.settings.timezone
    actor = request.query.get("nguoi", "").strip()[:100]
    action = request.query.get("viec", "").strip()[:64]
    since_text = request.query.get("tu_ngay", "").strip()
    problem = None
    since = None
    if since_text:
        try:
            since = datetime.combine(date.fromisoformat(since_text), time.min, timezone)
        except ValueError:
            problem = "Ngày không hợp lệ (dạng NNNN-TT-NN); bộ lọc ngày bị bỏ qua."
    entries = await services.audit.entries(
        actor=actor or None, action=action or None, since=since, limit=SHOWN
    )
    return render(
        request,
        "audit_log.html",
        entries=entries,
        timezone=timezone,
        actor=actor,
        action=action,
        since=since_text,
        problem=problem,
        shown=SHOWN,
    )
