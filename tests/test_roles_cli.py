"""`sotay role grant|revoke|list`, and the grants the permission check then sees."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.models import AuditEntry, Member, RoleGrant
from bot.services.organisations import load_tree
from bot.services.permissions import Action, PermissionService

PROVINCE = "Đảng bộ tỉnh Demo"
OFFICES = f"{PROVINCE}/Đảng bộ Khối các cơ quan và doanh nghiệp"
OFFICE = f"{OFFICES}/Chi bộ Văn phòng"
JUSTICE = f"{OFFICES}/Chi bộ Sở Tư pháp"
VILLAGE = f"{PROVINCE}/Đảng bộ xã Hòa An/Chi bộ thôn Đông"
CARD = "90000001"  # Nguyễn Văn An, Chi bộ Văn phòng


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


@pytest.fixture
async def demo(database: Database) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


async def grants(database: Database) -> set[tuple[str, str, str | None, str]]:
    """(card number, role, unit path, granted by) for every grant."""
    async with database.session() as session:
        tree = await load_tree(session)
        rows = await session.execute(
            select(
                Member.card_number, RoleGrant.role, RoleGrant.organisation_id, RoleGrant.granted_by
            ).join(Member, Member.id == RoleGrant.member_id)
        )
        return {
            (card, role, None if unit is None else tree.names_path(unit), by)
            for card, role, unit, by in rows
        }


async def test_grant_a_secretary_on_a_unit(
    database: Database, demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("role", "grant", CARD, "--role", "secretary", "--unit", OFFICE) == 0

    assert capsys.readouterr().out == f"Nguyễn Văn An: secretary ({OFFICE}) granted\n"
    ((card, role, unit, by),) = await grants(database)
    assert (card, role, unit) == (CARD, "secretary", OFFICE)
    assert by.startswith("cli")
    async with database.session() as session:
        member_id = await session.scalar(select(Member.id).where(Member.card_number == CARD))
        assert member_id is not None
        tree = await load_tree(session)
        permissions = PermissionService(session)
        office = tree.find(OFFICE.split("/"))
        village = tree.find(VILLAGE.split("/"))
        assert office is not None and village is not None
        assert await permissions.can(member_id, Action.ISSUE_CODES, office.id)
        assert not await permissions.can(member_id, Action.ISSUE_CODES, village.id)
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action != "demo.seed"))
        ).all()
    assert [(e.action, e.target, e.details) for e in entries] == [
        ("role.grant", f"member:{member_id}", {"role": "secretary", "unit_id": office.id})
    ]


async def test_granting_twice_changes_nothing(
    database: Database, demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        assert await sotay("role", "grant", CARD, "--role", "secretary", "--unit", OFFICE) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("was already granted")
    assert len(await grants(database)) == 1


async def test_a_trainer_for_several_units(database: Database, demo: None) -> None:
    for unit in (OFFICE, JUSTICE, VILLAGE):
        assert await sotay("role", "grant", CARD, "--role", "trainer", "--unit", unit) == 0
    assert {(role, unit) for _, role, unit, _ in await grants(database)} == {
        ("trainer", OFFICE),
        ("trainer", JUSTICE),
        ("trainer", VILLAGE),
    }


async def test_an_admin_has_no_unit(
    database: Database, demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("role", "grant", CARD, "--role", "admin") == 0
    assert await sotay("role", "grant", CARD, "--role", "admin") == 0  # NULL units never clash
    assert {(role, unit) for _, role, unit, _ in await grants(database)} == {("admin", None)}
    assert "admin (everywhere) granted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--role", "admin", "--unit", OFFICE], "admin covers every unit: give no unit"),
        (["--role", "secretary"], "secretary needs a unit"),
        (["--role", "trainer", "--unit", f"{PROVINCE}/Xã Không Có"], "no unit “"),
    ],
)
async def test_grant_refusals(
    database: Database,
    demo: None,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    error: str,
) -> None:
    assert await sotay("role", "grant", CARD, *args) == 1
    assert capsys.readouterr().err.startswith(f"sotay: {error}")
    assert await grants(database) == set()


async def test_an_unknown_card_or_role_is_refused(
    database: Database, demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("role", "grant", "123", "--role", "admin") == 1
    assert capsys.readouterr().err == "sotay: no member with that card number on the roster\n"
    with pytest.raises(SystemExit):
        await sotay("role", "grant", CARD, "--role", "chairman")
    assert "invalid choice: 'chairman'" in capsys.readouterr().err


async def test_an_inactive_member_gets_no_role(
    database: Database, demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == CARD))
        assert member is not None
        member.active = False
    assert await sotay("role", "grant", CARD, "--role", "admin") == 1
    assert capsys.readouterr().err == "sotay: the member is not active on the roster\n"


async def test_revoke(database: Database, demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert await sotay("role", "grant", CARD, "--role", "trainer", "--unit", OFFICE) == 0
    assert await sotay("role", "grant", CARD, "--role", "trainer", "--unit", JUSTICE) == 0
    capsys.readouterr()

    assert await sotay("role", "revoke", CARD, "--role", "trainer", "--unit", OFFICE) == 0
    assert await sotay("role", "revoke", CARD, "--role", "trainer", "--unit", OFFICE) == 0

    assert capsys.readouterr().out.splitlines() == [
        f"Nguyễn Văn An: trainer ({OFFICE}) revoked",
        f"Nguyễn Văn An: trainer ({OFFICE}) was not granted",
    ]
    assert {(role, unit) for _, role, unit, _ in await grants(database)} == {("trainer", JUSTICE)}
    async with database.session() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["demo.seed", "role.grant", "role.grant", "role.revoke"]


async def test_list_shows_roles_by_unit(
    database: Database, demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("role", "grant", CARD, "--role", "admin") == 0
    assert await sotay("role", "grant", "90000004", "--role", "secretary", "--unit", JUSTICE) == 0
    assert (
        await sotay("role", "grant", "90000007", "--role", "deputy_secretary", "--unit", VILLAGE)
        == 0
    )
    capsys.readouterr()

    assert await sotay("role", "list") == 0
    assert capsys.readouterr().out.splitlines() == [
        "admin             everywhere  Nguyễn Văn An",
        f"secretary         {JUSTICE}  Phạm Quốc Dũng",
        f"deputy_secretary  {VILLAGE}  Đặng Văn Lộc",
    ]
    assert await sotay("role", "list", "--unit", OFFICES) == 0
    assert capsys.readouterr().out == f"secretary         {JUSTICE}  Phạm Quốc Dũng\n"
    assert await sotay("role", "list", "--unit", OFFICE) == 0
    assert capsys.readouterr().out == "no roles granted\n"
