"""Đảng viên → Vai trò: admins grant and revoke roles from the web (audited, through
RoleService); a secretary or trainer gets 403 and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import AuditEntry, Member, RoleGrant
from tests.web_harness import ADMIN, MEMBER, OFFICE, SECRETARY, TRAINER, Console

pytestmark = pytest.mark.usefixtures("console")


async def _member(console: Console, card: str) -> int:
    async with console.database.session() as session:
        found = await session.scalar(select(Member.id).where(Member.card_number == card))
    assert found is not None
    return found


async def _grants(console: Console, card: str) -> set[tuple[str, int | None]]:
    member = await _member(console, card)
    async with console.database.session() as session:
        rows = await session.execute(
            select(RoleGrant.role, RoleGrant.organisation_id).where(RoleGrant.member_id == member)
        )
    return {(str(role), unit) for role, unit in rows}


async def test_an_admin_grants_and_revokes_a_role(console: Console) -> None:
    await console.sign_in(ADMIN)
    csrf = await console.csrf("/admin/dang-vien")
    found = await (
        await console.client.post("/admin/dang-vien", data={"ten": "Trần Thị Bình", "csrf": csrf})
    ).text()
    assert 'action="/admin/vai-tro/cap"' in found
    office = await console.unit(OFFICE)
    form = {
        "member": str(await _member(console, MEMBER)),
        "role": "deputy_secretary",
        "unit": str(office),
        "csrf": csrf,
    }
    response = await console.client.post("/admin/vai-tro/cap", data=form)
    page = await response.text()
    assert response.status == 200 and "Đã cấp vai trò." in page
    roles = page.split('id="roles"')[1]
    assert "Trần Thị Bình" in roles and "Phó bí thư" in roles
    assert await _grants(console, MEMBER) == {("deputy_secretary", office)}

    response = await console.client.post("/admin/vai-tro/thu-hoi", data=form)
    assert "Đã thu hồi vai trò." in await response.text()
    assert await _grants(console, MEMBER) == set()
    async with console.database.session() as session:
        acts = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.startswith("role."))
                .order_by(AuditEntry.id)
            )
        )
    assert acts[-2:] == ["role.grant", "role.revoke"]


async def test_only_admins_grant_or_revoke(console: Console) -> None:
    office = await console.unit(OFFICE)
    for card in (SECRETARY, TRAINER):
        console.client.session.cookie_jar.clear()
        await console.sign_in(card)
        csrf = await console.csrf("/admin/")
        page = await (await console.client.get("/admin/dang-vien")).text()
        assert "/admin/vai-tro/" not in page
        grant = {"member": str(await _member(console, MEMBER)), "role": "secretary"}
        response = await console.client.post(
            "/admin/vai-tro/cap", data={**grant, "unit": str(office), "csrf": csrf}
        )
        assert response.status == 403, card
        revoke = {"member": str(await _member(console, SECRETARY)), "role": "secretary"}
        response = await console.client.post(
            "/admin/vai-tro/thu-hoi", data={**revoke, "unit": str(office), "csrf": csrf}
        )
        assert response.status == 403, card
    assert await _grants(console, MEMBER) == set()
    assert await _grants(console, SECRETARY) == {("secretary", office)}


async def test_a_wrong_grant_gets_a_clear_message(console: Console) -> None:
    await console.sign_in(ADMIN)
    csrf = await console.csrf("/admin/")
    member = str(await _member(console, MEMBER))
    for form, message in (
        ({"member": member, "role": "chief"}, "Hãy chọn một vai trò."),
        ({"member": member, "role": "secretary", "unit": "x"}, "Biểu mẫu thiếu"),
        ({"member": member, "role": "secretary", "unit": "999999"}, "không còn hoạt động"),
    ):
        response = await console.client.post("/admin/vai-tro/cap", data={**form, "csrf": csrf})
        assert response.status == 400, form
        assert message in await response.text()
    assert await _grants(console, MEMBER) == set()


async def test_an_admin_cannot_revoke_their_own_admin_role(console: Console) -> None:
    await console.sign_in(ADMIN)
    form = {"member": str(await _member(console, ADMIN)), "role": "admin"}
    response = await console.client.post(
        "/admin/vai-tro/thu-hoi", data={**form, "csrf": await console.csrf()}
    )
    assert response.status == 400
    assert ("admin", None) in await _grants(console, ADMIN)
