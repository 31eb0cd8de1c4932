"""The console's aiohttp sub-application: its routes in one place, mounted by the web app
under /admin."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.db import Database
from bot.keys import Purpose
from bot.services import Shared
from bot.web import (
    audit_log,
    auth,
    codes,
    inbox,
    meetings,
    members,
    notices,
    overview,
    quiz_setup,
    quizzes,
    roles,
    roster_upload,
    unanswered,
)
from bot.web.console import STATE, ConsoleState, console_middleware

HERE = Path(__file__).resolve().parent


def _date(value: object, timezone: object, pattern: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC moment in the deployment's time zone."""
    return value.astimezone(timezone).strftime(pattern)  # type: ignore[attr-defined]


def build_admin_app(database: Database, shared: Shared) -> web.Application:
    app = web.Application(middlewares=[console_middleware])
    key = shared.keys.derive(Purpose.WEB_SESSIONS)
    app[STATE] = ConsoleState(database, shared, key)
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["local"] = _date
    router = app.router
    router.add_static("/static", HERE / "static", name="static")
    login = router.add_resource("/dangnhap", name="login")
    login.add_route("GET", auth.login_form)
    login.add_route("POST", auth.login)
    router.add_post("/dangxuat", auth.logout)
    router.add_get("/", overview.overview)
    router.add_get("/tong-quan.xlsx", overview.overview_xlsx)
    router.add_route("GET", "/dang-vien", members.members)
    router.add_route("POST", "/dang-vien", members.members)
    router.add_post("/vai-tro/cap", roles.grant)
    router.add_post("/vai-tro/thu-hoi", roles.revoke)
    router.add_get("/dang-vien/tai-len", roster_upload.upload_form)
    router.add_post("/dang-vien/xem-truoc", roster_upload.preview)
    router.add_post("/dang-vien/ap-dung", roster_upload.apply)
    router.add_get("/ma-kich-hoat", codes.codes_page)
    router.add_post("/ma-kich-hoat", codes.issue_codes)
    router.add_get("/thong-bao", notices.compose)
    router.add_post("/thong-bao/xem-truoc", notices.preview)
    router.add_post("/thong-bao/gui", notices.send)
    router.add_get("/thong-bao/{broadcast}", notices.report)
    router.add_get("/lich-hop", meetings.meetings)
    router.add_get("/trac-nghiem", quizzes.quiz_list)
    # Before "/trac-nghiem/{quiz}", which would take these names for a quiz's.
    banks = router.add_resource("/trac-nghiem/ngan-hang")
    banks.add_route("GET", quiz_setup.banks_page)
    banks.add_route("POST", quiz_setup.upload_bank)
    scheduling = router.add_resource("/trac-nghiem/len-lich")
    scheduling.add_route("GET", quiz_setup.schedule_form)
    scheduling.add_route("POST", quiz_setup.schedule)
    router.add_get("/trac-nghiem/{quiz}", quizzes.quiz_results)
    router.add_get("/trac-nghiem/{quiz}/ket-qua.xlsx", quizzes.quiz_xlsx)
    router.add_get("/trac-nghiem/{quiz}/bieu-do.png", quizzes.quiz_chart)
    router.add_get("/hop-thu", inbox.inbox)
    router.add_post("/hop-thu/{question}", inbox.answer)
    router.add_get("/cau-hoi-chua-co", unanswered.unanswered)
    router.add_get("/nhat-ky", audit_log.audit_log)
    return app
