"""Signing in with a one-time link, and signing out."""

from __future__ import annotations

from aiohttp import web

from bot.web.console import (
    STATE,
    clear_session_cookie,
    render,
    see_other,
    services_of,
    set_session_cookie,
    viewer_of,
)
from bot.web.paths import ADMIN_PREFIX

# A token is 43 characters (32 random bytes); anything much longer is not one.
MAX_TOKEN_CHARS = 100


async def login_form(request: web.Request) -> web.Response:
    """The page a sign-in link opens: its script puts the link's token in the form."""
    return render(request, "login.html")


async def login(request: web.Request) -> web.Response:
    """Signs in with the posted token, or says why the link no longer works."""
    token = (await request.post()).get("token", "")
    found = None
    if isinstance(token, str) and 0 < len(token.strip()) <= MAX_TOKEN_CHARS:
        found = await services_of(request).web_logins.redeem(token.strip())
    if found is None:
        return render(request, "login_failed.html", status=400)
    login_id, _member_id = found
    response = see_other(f"{ADMIN_PREFIX}/")
    set_session_cookie(request, response, request.app[STATE], login_id)
    return response


async def logout(request: web.Request) -> web.Response:
    await services_of(request).web_logins.end(viewer_of(request).login_id)
    response = render(request, "signed_out.html", viewer=None, logged_out=True)
    clear_session_cookie(response)
    return response
