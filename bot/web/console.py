"""What every page of the console shares: one database transaction per request, the
signed-in viewer resolved from the session cookie, the CSRF check on every POST, refusals
rendered as a Vietnamese page, and the units of a scope.

A refusal (Refused) raised by a page rolls its transaction back: nothing it did is kept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.services import Services, Shared
from bot.services.accounts import MemberView
from bot.services.organisations import Unit, load_tree
from bot.services.permissions import Action, Grant, Role, Scope
from bot.services.web_logins import IDLE_TIMEOUT
from bot.web.paths import ADMIN_PREFIX
from bot.web.sessions import COOKIE_NAME, SessionCookie, csrf_matches, csrf_token

log = logging.getLogger(__name__)
_BAD_REQUEST = "Yêu cầu không hợp lệ. Hãy tải lại trang và thử lại."
_FAILED = "Có lỗi khi xử lý yêu cầu; không có gì được ghi. Hãy thử lại sau ít phút."
# Pages anyone may open: signing in and the style sheet.
PUBLIC_ROUTES = frozenset({"login", "static"})
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": a form posted under it says "Origin: null", and the origin is checked.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class ConsoleState:
    database: Database
    shared: Shared
    key: bytes


STATE = web.AppKey("console_state", ConsoleState)


def _request_key(name: str, kind: type) -> Any:
    """A typed request key where aiohttp has them (3.14), else the plain name."""
    make = getattr(web, "RequestKey", None)
    return name if make is None else make(name, kind)


SERVICES = _request_key("console_services", Services)
# The request's session, for the service functions that take one (the unit tree).
SESSION = _request_key("console_session", AsyncSession)
VIEWER = _request_key("console_viewer", object)


@dataclass(frozen=True)
class Viewer:
    """The signed-in member, their grants and this session's CSRF token."""

    login_id: int
    member: MemberView
    grants: tuple[Grant, ...]
    csrf: str

    @property
    def ref(self) -> str:
        return f"member:{self.member.id}"

    @property
    def is_admin(self) -> bool:
        return any(grant.role is Role.ADMIN for grant in self.grants)

    def scope(self, action: Action) -> Scope:
        return Scope.of(self.grants, action)

    def may(self, action: Action) -> bool:
        return not self.scope(action).empty


class Refused(Exception):
    """A request answered with an error page: status and what the page says."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def forbidden() -> Refused:
    return Refused(403, "Bạn không có quyền xem hoặc làm việc này với đơn vị đó.")


def not_found() -> Refused:
    return Refused(404, "Không tìm thấy trang hoặc mục này.")


def services_of(request: web.Request) -> Services:
    return request[SERVICES]


def viewer_of(request: web.Request) -> Viewer:
    return request[VIEWER]


def scope_for(request: web.Request, action: Action) -> Scope:
    """The viewer's scope for the action; a 403 page when it is nowhere."""
    scope = viewer_of(request).scope(action)
    if scope.empty:
        raise forbidden()
    return scope


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    context.setdefault("viewer", request.get(VIEWER))
    context.setdefault("Action", Action)
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def see_other(path: str) -> web.Response:
    """After a POST that did something: the browser fetches the result page with GET."""
    return web.Response(status=303, headers={"Location": path})


def attachment(name: str, body: bytes, content_type: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def units_in(request: web.Request, scope: Scope) -> list[Unit]:
    """The active units of the scope, in outline order."""
    tree = await load_tree(request[SESSION])
    return [u for u in tree.subtree(None) if u.active and scope.contains(u.path)]


async def form_int(request: web.Request, name: str) -> int:
    """A whole number from the posted form; a 400 page otherwise."""
    value = (await request.post()).get(name, "")
    if not isinstance(value, str) or not value.isdigit():
        raise Refused(400, "Biểu mẫu thiếu hoặc sai thông tin. Hãy tải lại trang và thử lại.")
    return int(value)


def _now(state: ConsoleState) -> datetime:
    return state.shared.clock().astimezone(UTC)


def set_session_cookie(
    request: web.Request, response: web.StreamResponse, state: ConsoleState, login_id: int
) -> None:
    seen = int(_now(state).timestamp())
    response.set_cookie(
        COOKIE_NAME,
        SessionCookie(login_id, seen).seal(state.key),
        path=f"{ADMIN_PREFIX}/",
        httponly=True,
        samesite="Strict",
        secure=request.secure or request.headers.get("X-Forwarded-Proto") == "https",
        max_age=int(IDLE_TIMEOUT.total_seconds()),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path=f"{ADMIN_PREFIX}/")


async def _viewer(request: web.Request, state: ConsoleState, services: Services) -> Viewer | None:
    cookie = SessionCookie.open(state.key, request.cookies.get(COOKIE_NAME, ""))
    if cookie is None:
        return None
    if _now(state).timestamp() - cookie.seen > IDLE_TIMEOUT.total_seconds():
        return None
    member_id = await services.web_logins.session_member(cookie.login_id)
    if member_id is None:
        return None
    grants = await services.permissions.grants(member_id)
    if not grants:
        return None
    member = await services.accounts.member(member_id)
    return Viewer(cookie.login_id, member, tuple(grants), csrf_token(state.key, cookie.login_id))


def _same_origin(request: web.Request) -> bool:
    """A browser's POST names where its page came from; only our own pages may post."""
    origin = request.headers.get("Origin")
    return origin is None or origin in {f"http://{request.host}", f"https://{request.host}"}


async def _check_post(request: web.Request, viewer: Viewer | None, state: ConsoleState) -> None:
    if not _same_origin(request):
        raise Refused(403, "Yêu cầu không đến từ trang quản trị. Không có gì được thực hiện.")
    if viewer is None:
        return
    given = (await request.post()).get("csrf", "")
    if not isinstance(given, str) or not csrf_matches(state.key, viewer.login_id, given):
        raise Refused(403, "Biểu mẫu đã cũ hoặc không hợp lệ. Hãy tải lại trang rồi làm lại.")


async def _handle(
    request: web.Request, handler: Handler, state: ConsoleState
) -> web.StreamResponse:
    public = request.match_info.route.name in PUBLIC_ROUTES
    viewer: Viewer | None = None
    async with state.database.session() as session, session.begin():
        services = Services.for_session(session, state.shared)
        request[SERVICES], request[SESSION] = services, session
        if not public:
            viewer = await _viewer(request, state, services)
            if viewer is None:
                response = render(request, "signed_out.html", status=401)
                clear_session_cookie(response)
                return response
            request[VIEWER] = viewer
        if request.method == "POST":
            await _check_post(request, viewer, state)
        response = await handler(request)
    if services.outbox.enqueued:
        state.shared.notify_outbox()
    if services.quizzes.scheduled:
        state.shared.notify_schedule()
    if viewer is not None and COOKIE_NAME not in response.cookies:
        # Each request moves the idle deadline on.
        set_session_cookie(request, response, state, viewer.login_id)
    return response


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        response = await _handle(request, handler, state)
    except Refused as refusal:
        response = render(request, "refused.html", status=refusal.status, message=refusal.message)
    except web.HTTPNotFound:
        response = render(request, "refused.html", status=404, message=not_found().message)
    except web.HTTPMethodNotAllowed:
        response = render(request, "refused.html", status=405, message=not_found().message)
    except web.HTTPRequestEntityTooLarge:
        response = render(
            request, "refused.html", status=413, message="Tệp quá lớn. Không có gì được ghi."
        )
    except web.HTTPException as problem:
        response = render(request, "refused.html", status=problem.status, message=_BAD_REQUEST)
    except Exception:
        # What was posted may hold personal data: log only which page failed.
        log.exception("web console: %s %s failed", request.method, request.path)
        response = render(request, "refused.html", status=500, message=_FAILED)
    response.headers.update(_SECURITY_HEADERS)
    return response
