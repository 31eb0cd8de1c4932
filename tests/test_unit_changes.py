"""`sotay org rename|move|merge|list`: the 2025 reorganisation, with members kept in place."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.models import AuditEntry, Meeting, Member, Organisation, RoleGrant, utcnow
from bot.services.organisations import OrganisationService, UnitTree, load_tree

PROVINCE = "Tỉnh Cũ"
COMMUNE_A = f"{PROVINCE}/Xã A"
COMMUNE_B = f"{PROVINCE}/Xã B"


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


@pytest.fixture
async def tree_ids(database: Database) -> dict[str, int]:
    """Tỉnh Cũ / Xã A / (Chi bộ thôn 1 / Tổ 1, Chi bộ thôn 2), Xã B / Chi bộ thôn 3:
    two members in each chi bộ, the secretary of Xã A holding a grant on it."""
    paths = [
        f"{COMMUNE_A}/Chi bộ thôn 1/Tổ 1",
        f"{COMMUNE_A}/Chi bộ thôn 2",
        f"{COMMUNE_B}/Chi bộ thôn 3",
    ]
    ids: dict[str, int] = {}
    async with database.session() as session, session.begin():
        organisations = OrganisationService(session)
        card = 0
        for path in paths:
            names = path.split("/")
            for depth in range(1, len(names) + 1):
                unit = await organisations.ensure_path(names[:depth])
                ids["/".join(names[:depth])] = unit.id
            for _ in range(2):
                card += 1
                session.add(
                    Member(
                        card_number=f"5000000{card}",
                        full_name=f"Người {card}",
                        birth_date=date(1980, 1, card),
                        phone=f"091200000{card}",
                        organisation_id=unit.id,
                    )
                )
        await session.flush()
        secretary = await session.scalar(select(Member.id).where(Member.card_number == "50000001"))
        session.add(
            RoleGrant(
                member_id=secretary,
                role="secretary",
                organisation_id=ids[COMMUNE_A],
                granted_by="t",
            )
        )
    return ids


async def current_tree(database: Database) -> UnitTree:
    async with database.session() as session:
        return await load_tree(session)


async def members_by_unit(database: Database) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    async with database.session() as session:
        for member in await session.scalars(select(Member)):
            found.setdefault(member.organisation_id, set()).add(member.card_number)
    return found


def assert_paths_consistent(tree: UnitTree) -> None:
    """Every unit's path is its parent's path plus its own id."""
    for unit in tree.by_id.values():
        assert unit.path == f"{tree.path_of(unit.parent_id)}{unit.id}/"


async def audit_actions(database: Database) -> list[tuple[str, str | None, dict[str, object]]]:
    async with database.session() as session:
        entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.target, e.details) for e in entries]


async def test_rename_keeps_members_and_paths(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    before = await members_by_unit(database)

    assert await sotay("org", "rename", f"{COMMUNE_A}/Chi bộ thôn 2", "Chi bộ thôn Hai") == 0

    assert capsys.readouterr().out == "renamed “Chi bộ thôn 2” to “Chi bộ thôn Hai”\n"
    tree = await current_tree(database)
    unit = tree.find([PROVINCE, "Xã A", "Chi bộ thôn Hai"])
    assert unit is not None and unit.id == tree_ids[f"{COMMUNE_A}/Chi bộ thôn 2"]
    assert tree.find([PROVINCE, "Xã A", "Chi bộ thôn 2"]) is None
    assert await members_by_unit(database) == before
    assert_paths_consistent(tree)
    assert await audit_actions(database) == [
        (
            "org.rename",
            f"unit:{unit.id}",
            {"old_name": "Chi bộ thôn 2", "new_name": "Chi bộ thôn Hai"},
        )
    ]


async def test_rename_refuses_a_name_a_sibling_has(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("org", "rename", f"{COMMUNE_A}/Chi bộ thôn 2", "chi bộ THÔN 1") == 1
    assert capsys.readouterr().err == "sotay: a unit named “chi bộ THÔN 1” is already there\n"
    assert await audit_actions(database) == []


async def test_move_recomputes_the_paths_of_the_whole_subtree(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    before = await members_by_unit(database)

    assert await sotay("org", "move", f"{COMMUNE_A}/Chi bộ thôn 1", COMMUNE_B) == 0

    assert capsys.readouterr().out == f"moved 2 unit(s) under “{COMMUNE_B}”\n"
    tree = await current_tree(database)
    to_1 = tree.find([PROVINCE, "Xã B", "Chi bộ thôn 1", "Tổ 1"])
    assert to_1 is not None and to_1.id == tree_ids[f"{COMMUNE_A}/Chi bộ thôn 1/Tổ 1"]
    assert to_1.path == (
        f"/{tree_ids[PROVINCE]}/{tree_ids[COMMUNE_B]}/"
        f"{tree_ids[f'{COMMUNE_A}/Chi bộ thôn 1']}/{to_1.id}/"
    )
    assert_paths_consistent(tree)
    assert await members_by_unit(database) == before
    (entry,) = await audit_actions(database)
    assert entry[0] == "org.move"
    assert entry[2] == {
        "from_parent_id": tree_ids[COMMUNE_A],
        "to_parent_id": tree_ids[COMMUNE_B],
        "units": 2,
    }


async def test_move_to_the_top(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("org", "move", COMMUNE_B, "/") == 0
    assert capsys.readouterr().out == "moved 2 unit(s) to the top\n"
    tree = await current_tree(database)
    assert tree.find(["Xã B", "Chi bộ thôn 3"]) is not None
    assert_paths_consistent(tree)


@pytest.mark.parametrize(
    ("source", "parent", "error"),
    [
        (COMMUNE_A, f"{COMMUNE_A}/Chi bộ thôn 1/Tổ 1", "cannot move a unit into itself"),
        (COMMUNE_A, COMMUNE_A, "cannot move a unit into itself"),
        (COMMUNE_A, PROVINCE, "“Xã A” is already there"),
        (COMMUNE_A, "Tỉnh Cũ/Xã C", "no unit “Tỉnh Cũ/Xã C”"),
    ],
)
async def test_move_refusals(
    database: Database,
    tree_ids: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    source: str,
    parent: str,
    error: str,
) -> None:
    before = await current_tree(database)
    assert await sotay("org", "move", source, parent) == 1
    assert capsys.readouterr().err.startswith(f"sotay: {error}")
    assert (await current_tree(database)).by_id == before.by_id


async def test_merge_moves_members_units_and_grants_and_keeps_the_source(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    before = await members_by_unit(database)

    assert await sotay("org", "merge", COMMUNE_A, COMMUNE_B) == 0

    assert capsys.readouterr().out == (
        "merged “Xã A” into “Xã B”: 0 member(s), 3 unit(s), 1 role grant(s), 0 meeting(s) moved\n"
    )
    tree = await current_tree(database)
    source = tree.by_id[tree_ids[COMMUNE_A]]
    assert (source.active, source.merged_into_id) == (False, tree_ids[COMMUNE_B])
    for name in ("Chi bộ thôn 1", "Chi bộ thôn 2", "Chi bộ thôn 3"):
        unit = tree.find([PROVINCE, "Xã B", name])
        assert unit is not None and unit.active
    assert_paths_consistent(tree)
    assert await members_by_unit(database) == before  # members stayed in their chi bộ
    async with database.session() as session:
        grant = (await session.scalars(select(RoleGrant))).one()
    assert grant.organisation_id == tree_ids[COMMUNE_B]
    (entry,) = await audit_actions(database)
    assert entry == (
        "org.merge",
        f"unit:{tree_ids[COMMUNE_A]}",
        {"into_id": tree_ids[COMMUNE_B], "members": 0, "units": 3, "grants": 1, "meetings": 0},
    )


async def test_merging_two_chi_bo_moves_the_members(
    database: Database, tree_ids: dict[str, int]
) -> None:
    source, target = f"{COMMUNE_A}/Chi bộ thôn 2", f"{COMMUNE_B}/Chi bộ thôn 3"
    async with database.session() as session, session.begin():
        session.add(
            Meeting(
                organisation_id=tree_ids[source],
                kind="regular",
                title="",
                place="Nhà văn hóa",
                starts_at=utcnow() + timedelta(days=10),
                reminder_offsets=[120],
                created_by="test",
            )
        )

    assert await sotay("org", "merge", source, target) == 0

    by_unit = await members_by_unit(database)
    assert by_unit[tree_ids[target]] == {"50000003", "50000004", "50000005", "50000006"}
    assert tree_ids[source] not in by_unit
    async with database.session() as session:
        meeting_units = list(await session.scalars(select(Meeting.organisation_id)))
    assert meeting_units == [tree_ids[target]]  # the calendar follows the members


@pytest.mark.parametrize(
    ("source", "target", "error"),
    [
        (COMMUNE_A, COMMUNE_A, "cannot merge a unit into itself"),
        (COMMUNE_A, f"{COMMUNE_A}/Chi bộ thôn 2", "cannot merge a unit into a unit under it"),
    ],
)
async def test_merge_refusals(
    database: Database,
    tree_ids: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    source: str,
    target: str,
    error: str,
) -> None:
    assert await sotay("org", "merge", source, target) == 1
    assert capsys.readouterr().err == f"sotay: {error}\n"
    assert all(u.active for u in (await current_tree(database)).by_id.values())


async def test_merge_refuses_units_with_children_of_the_same_name(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("org", "rename", f"{COMMUNE_B}/Chi bộ thôn 3", "Chi bộ thôn 2") == 0
    capsys.readouterr()

    assert await sotay("org", "merge", COMMUNE_A, COMMUNE_B) == 1

    assert capsys.readouterr().err == (
        "sotay: both units have a unit named “Chi bộ thôn 2”: rename one first (sotay org rename)\n"
    )
    assert (await current_tree(database)).by_id[tree_ids[COMMUNE_A]].active


async def test_a_merged_unit_cannot_be_changed_or_named_again(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("org", "merge", COMMUNE_A, COMMUNE_B) == 0
    capsys.readouterr()
    assert await sotay("org", "rename", COMMUNE_A, "Xã A mới") == 1
    assert capsys.readouterr().err == f"sotay: unit “{COMMUNE_A}” was merged into “{COMMUNE_B}”\n"


async def test_list_shows_the_tree_with_member_counts(
    database: Database, tree_ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == "50000006"))
        assert member is not None
        member.active = False  # inactive members are not counted
    assert await sotay("org", "merge", f"{COMMUNE_A}/Chi bộ thôn 2", COMMUNE_A) == 0
    capsys.readouterr()

    assert await sotay("org", "list") == 0
    assert capsys.readouterr().out == (
        "Tỉnh Cũ  (5 members)\n"
        "  Xã A  (4 members)\n"
        "    Chi bộ thôn 1  (2 members)\n"
        "      Tổ 1  (2 members)\n"
        "  Xã B  (1 member)\n"
        "    Chi bộ thôn 3  (1 member)\n"
    )
    assert await sotay("org", "list", "--unit", COMMUNE_A, "--all") == 0
    assert capsys.readouterr().out == (
        "Xã A  (4 members)\n"
        "  Chi bộ thôn 1  (2 members)\n"
        "    Tổ 1  (2 members)\n"
        f"  Chi bộ thôn 2  (0 members)  [merged into {COMMUNE_A}]\n"
    )


async def test_unit_rows_stay_for_history(database: Database, tree_ids: dict[str, int]) -> None:
    assert await sotay("org", "merge", COMMUNE_A, COMMUNE_B) == 0
    async with database.session() as session:
        names = set(await session.scalars(select(Organisation.name)))
    assert "Xã A" in names
