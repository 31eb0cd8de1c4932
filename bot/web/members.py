"""Đảng viên: find members of the scope by name (posted, so names stay out of URLs and
access logs) and see the roles held in the scope."""

from __future__ import annotations

from aiohttp import web

from bot.services.permissions import Action, Role
from bot.services.roles import RoleService
from bot.web.console import SESSION, render, scope_for, services_of, units_in
from bot.web.notices import CHANNEL_NAMES

ROLE_NAMES = {
    Role.SECRETARY: "Bí thư",
    Role.DEPUTY_SECRETARY: "Phó bí thư",
    Role.TRAINER: "Tập huấn viên",
    Role.ADMIN: "Quản trị",
}
MAX_QUERY_CHARS = 100
# What the page says after an admin granted or revoked a role (bot/web/roles.py).
DONE = {"cap": "Đã cấp vai trò.", "thu-hoi": "Đã thu hồi vai trò."}


async def members(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.VIEW_REPORTS)
    query = ""
    found = None
    if request.method == "POST":
        query = str((await request.post()).get("ten", "")).strip()[:MAX_QUERY_CHARS]
        found = await services_of(request).directory.search(scope, query)
    unit_list = await units_in(request, scope)
    units = {unit.id: unit.name for unit in unit_list}
    roles = RoleService(request[SESSION])
    grants = [
        grant
        for grant in await roles.list_grants()
        if grant.unit_id in units or (scope.everywhere and grant.unit_id is None)
    ]
    return render(
        request,
        "members.html",
        query=query,
        found=found,
        grants=grants,
        units=units,
        unit_list=unit_list,
        role_names=ROLE_NAMES,
        channel_names=CHANNEL_NAMES,
        done=DONE.get(request.query.get("xong", "")),
    )
