"""Trắc nghiệm: the quizzes a trainer (or admin) may read, and a quiz's results per unit
with the same workbook and chart the chat's /baocaoquiz sends. Who may read a quiz is the
service's rule (QuizReports.may_see)."""

from __future__ import annotations

import asyncio
import io

from aiohttp import web

from bot.exports.quiz_results import write_quiz_chart, write_quiz_results
from bot.models import Quiz
from bot.services.permissions import Action, Actor
from bot.services.quizzes.lifecycle import State
from bot.web.console import XLSX, attachment, not_found, render, scope_for, services_of, viewer_of

RECENT_QUIZZES = 50
# An open quiz's page reloads itself this often, with REFRESHED in its address: the reloads
# are not new readings for the audit log (the first view was recorded).
REFRESH_SECONDS = 30
REFRESHED = "tu-cap-nhat"
STATES = {"scheduled": "Chưa mở", "open": "Đang mở", "closed": "Đã đóng"}


def _reader(request: web.Request) -> Actor:
    return Actor(viewer_of(request).member, scope_for(request, Action.SCHEDULE_QUIZ))


async def _quiz(request: web.Request) -> Quiz:
    """The quiz named in the path, if the viewer may read it; a 404 page otherwise."""
    raw = request.match_info["quiz"]
    services = services_of(request)
    quiz = await services.quizzes.quiz(int(raw)) if raw.isdigit() else None
    if quiz is None or not await services.quiz_reports.may_see(_reader(request), quiz):
        raise not_found()
    return quiz


async def quiz_list(request: web.Request) -> web.Response:
    reader = _reader(request)
    services = services_of(request)
    visible = [
        quiz
        for quiz in await services.quizzes.recent(RECENT_QUIZZES)
        if await services.quiz_reports.may_see(reader, quiz)
    ]
    return render(
        request,
        "quizzes.html",
        quizzes=visible,
        states=STATES,
        timezone=services.settings.timezone,
    )


async def quiz_results(request: web.Request) -> web.Response:
    quiz = await _quiz(request)
    services = services_of(request)
    report = await services.quiz_reports.build(quiz)
    if REFRESHED not in request.query:
        await services.audit.record(viewer_of(request).ref, "quiz.report", f"quiz:{quiz.id}")
    return render(
        request,
        "quiz_results.html",
        quiz=quiz,
        report=report,
        refresh=REFRESH_SECONDS if quiz.state == State.OPEN else None,
        refreshed=REFRESHED,
        states=STATES,
        timezone=services.settings.timezone,
    )


async def quiz_xlsx(request: web.Request) -> web.Response:
    quiz = await _quiz(request)
    services = services_of(request)
    report = await services.quiz_reports.build(quiz)
    await services.audit.record(viewer_of(request).ref, "export.quiz_results", f"quiz:{quiz.id}")
    target = io.BytesIO()
    write_quiz_results(target, report, services.settings.timezone)
    return attachment(f"ket-qua-trac-nghiem-{quiz.id}.xlsx", target.getvalue(), XLSX)


async def quiz_chart(request: web.Request) -> web.Response:
    quiz = await _quiz(request)
    report = await services_of(request).quiz_reports.build(quiz)
    target = io.BytesIO()
    # Drawing takes a moment: off the event loop, so other requests are served meanwhile.
    await asyncio.to_thread(write_quiz_chart, target, report)
    return web.Response(body=target.getvalue(), content_type="image/png")
