"""Đảng viên → Vai trò: admins grant and revoke roles from the web through RoleService, the
same service as `sotay role grant|revoke` (audited there). Everyone else is refused (403)."""

from __future__ import annotations

from aiohttp import web

from bot.services.permissions import Role
from bot.services.roles import RoleError, RoleService
from bot.web.console import SESSION, Refused, forbidden, form_int, see_other, viewer_of
from bot.web.paths import ADMIN_PREFIX

_ROLE_ERRORS = {
    "not active on the roster": "Đảng viên này không còn trong danh sách đang sinh hoạt.",
    "unit is not active": "Đơn vị này không còn hoạt động (đã sáp nhập hoặc giải thể).",
    "needs a unit": "Vai trò này cần chọn một đơn vị.",
    "give no unit": "Quản trị áp dụng cho mọi đơn vị: không chọn đơn vị.",
}


async def _posted(request: web.Request) -> tuple[int, Role, int | None]:
    """The member, role and unit (none for admin) the form names, checked."""
    if not viewer_of(request).is_admin:
        raise forbidden()
    member_id = await form_int(request, "member")
    try:
        role = Role(str((await request.post()).get("role", "")))
    except ValueError:
        raise Refused(400, "Hãy chọn một vai trò.") from None
    unit_id = None if role is Role.ADMIN else await form_int(request, "unit")
    return member_id, role, unit_id


def _refusal(error: RoleError) -> Refused:
    message = next((v for k, v in _ROLE_ERRORS.items() if k in str(error)), None)
    return Refused(400, message or "Không thể thay đổi vai trò này.")


async def grant(request: web.Request) -> web.Response:
    member_id, role, unit_id = await _posted(request)
    try:
        await RoleService(request[SESSION]).grant(
            member_id, role, unit_id, actor=viewer_of(request).ref
        )
    except RoleError as error:
        raise _refusal(error) from None
    return see_other(f"{ADMIN_PREFIX}/dang-vien?xong=cap")


async def revoke(request: web.Request) -> web.Response:
    member_id, role, unit_id = await _posted(request)
    if member_id == viewer_of(request).member.id and role is Role.ADMIN:
        raise Refused(400, "Bạn không thể tự thu hồi quyền quản trị của mình.")
    try:
        await RoleService(request[SESSION]).revoke(
            member_id, role, unit_id, actor=viewer_of(request).ref
        )
    except RoleError as error:
        raise _refusal(error) from None
    return see_other(f"{ADMIN_PREFIX}/dang-vien?xong=thu-hoi")
