"""Câu hỏi chưa có trong Sổ tay: the questions the handbook missed or got a thumbs down for
in the last weeks, for its editors (admins), the same question asked several ways counted
once: the same words once the spelling is folded as the search folds it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aiohttp import web

from bot.services.handbook.normalize import fold
from bot.web.console import forbidden, render, services_of, viewer_of

PERIODS = {"7": 7, "30": 30, "90": 90}


def _key(question: str) -> str:
    return " ".join(fold(question).lower().split()).strip(" ?.!")


async def unanswered(request: web.Request) -> web.Response:
    if not viewer_of(request).is_admin:
        raise forbidden()
    days = PERIODS.get(request.query.get("ngay", "7"), 7)
    services = services_of(request)
    rows = await services.questions.for_editors(services.clock() - timedelta(days=days))
    await services.audit.record(
        viewer_of(request).ref, "export.questions", None, days=days, count=len(rows), via="web"
    )
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for row in rows:
        key = _key(row.question)
        counts[key] += 1
        shown.setdefault(key, row.question)
    groups = [(shown[key], count) for key, count in counts.most_common()]
    return render(
        request, "unanswered.html", groups=groups, days=days, total=len(rows), periods=PERIODS
    )
