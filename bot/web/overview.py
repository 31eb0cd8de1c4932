"""Tổng quan: per unit of the scope, members on the roster, linked accounts per messenger and
the share linked (a table with bars), quiz participation and pass rate over this year's
closed quizzes and meeting attendance this year (OverviewService), downloadable as xlsx."""

from __future__ import annotations

from aiohttp import web

from bot.exports.spreadsheets import write_overview
from bot.services.overview import Overview
from bot.services.permissions import Action
from bot.services.trends import TrendService
from bot.web.console import SESSION, XLSX, attachment, render, scope_for, services_of, viewer_of
from bot.web.files import workbook_bytes

TREND_WEEKS = 12


async def _overview(request: web.Request) -> Overview:
    scope = scope_for(request, Action.VIEW_REPORTS)
    # The whole tree for an admin; each granted unit's subtree otherwise.
    units: list[int | None] = (
        [None] if scope.everywhere else scope.roots(viewer_of(request).member.organisation_id)
    )
    return await services_of(request).overview.report(units)


async def overview(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    if not viewer.may(Action.VIEW_REPORTS):
        # A secretary's deputy may hold only acting roles: send them where they can work.
        return render(request, "home.html")
    report = await _overview(request)
    tops = [row.adoption for row in report.rows if row.adoption.depth == 0]
    members = sum(row.members for row in tops)
    linked = sum(row.linked for row in tops)
    services = services_of(request)
    trends = TrendService(request[SESSION])
    now, timezone = services.clock(), services.settings.timezone
    links = await trends.linked_by_week(
        viewer.scope(Action.VIEW_REPORTS), TREND_WEEKS, now, timezone
    )
    # Handbook questions are kept without who asked: the whole deployment's, for admins.
    asked, missed = (
        await trends.questions_by_week(TREND_WEEKS, now, timezone) if viewer.is_admin else ([], [])
    )
    return render(
        request,
        "overview.html",
        rows=report.rows,
        year=report.year,
        members=members,
        linked=linked,
        telegram=sum(row.telegram for row in tops),
        zalo=sum(row.zalo for row in tops),
        rate=linked / members if members else 0.0,
        links=links,
        asked=asked,
        missed=missed,
    )


async def overview_xlsx(request: web.Request) -> web.Response:
    report = await _overview(request)
    await services_of(request).audit.record(
        viewer_of(request).ref, "export.adoption", None, rows=len(report.rows), via="web"
    )
    body = workbook_bytes(lambda path: write_overview(path, report))
    return attachment("tong-quan.xlsx", body, XLSX)
