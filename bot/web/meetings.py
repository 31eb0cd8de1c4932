"""Lịch họp: the coming meetings of the units in scope with the members' answers, and each
unit's attendance this year (from the same records as /chuyencan and the attendance
workbook)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from bot.services.meetings.attendance import YearTally
from bot.services.meetings.calendar import Occurrence
from bot.services.permissions import Action
from bot.web.console import render, scope_for, services_of, units_in

DAYS_AHEAD = 30
KINDS = {"regular": "Sinh hoạt thường kỳ", "themed": "Chuyên đề", "training": "Tập huấn"}


@dataclass(frozen=True)
class Coming:
    unit: str
    occurrence: Occurrence
    attend: int
    absent: int
    unanswered: int


async def meetings(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.VIEW_REPORTS)
    services = services_of(request)
    year = services.clock().astimezone(services.settings.timezone).year
    coming: list[Coming] = []
    years: list[tuple[str, YearTally]] = []
    for unit in await units_in(request, scope):
        for occurrence in await services.meetings.upcoming(unit.id, DAYS_AHEAD):
            meeting, at = occurrence.meeting, occurrence.at
            answers = Counter(a.answer for a in await services.meetings.answers(meeting.id, at))
            coming.append(
                Coming(unit.name, occurrence, answers["attend"], answers["absent"], answers[None])
            )
        record = await services.attendance.year(unit.id, year)
        if record.occurrences:
            years.append((unit.name, YearTally.of(record)))
    coming.sort(key=lambda c: c.occurrence.at)
    return render(
        request,
        "meetings.html",
        coming=coming,
        years=years,
        year=year,
        days=DAYS_AHEAD,
        kinds=KINDS,
        timezone=services.settings.timezone,
    )
