"""`sotay roster import`: what the operator sees, and what ends up in the database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.models import AuditEntry, Member, Organisation, RoleGrant
from bot.services.organisations import load_tree
from bot.services.phones import normalise_phone

HEADER = [
    "Họ và tên",
    "Ngày sinh",
    "Số thẻ đảng viên",
    "Số điện thoại",
    "Đơn vị",
    "Vai trò",
    "Loại",
]
UNIT_1 = "Đảng bộ tỉnh Thử/Đảng bộ xã An Phú/Chi bộ thôn 1"
UNIT_2 = "Đảng bộ tỉnh Thử/Đảng bộ xã An Phú/Chi bộ thôn 2"
ROWS: list[list[object]] = [
    ["Nguyễn Văn An", "12/03/1980", "10000001", "0912 345 678", UNIT_1, "Bí thư", "Chính thức"],
    ["Trần Thị Bình", datetime(1986, 7, 2), "10000002", 987654321, UNIT_1, "", "dự bị"],
    ["Lê Minh Châu", "1998-11-20", 10000003, "+84 38.765.4321", UNIT_2, "phó bí thư", ""],
    ["Phạm Quốc Dũng", "5/1/1975", "10000004", "", UNIT_2, "quản trị", "chính thức"],
]


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    """Run the command line as an operator would (it opens its own engine and event loop)."""
    return await asyncio.to_thread(main, [str(arg) for arg in args])


def write_xlsx(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER
) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, bom: bool = False) -> Path:
    lines = [",".join(HEADER)] + [",".join(f'"{cell}"' for cell in row) for row in rows]
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


async def members(database: Database) -> dict[str, Member]:
    async with database.session() as session:
        return {m.card_number: m for m in await session.scalars(select(Member))}


async def test_xlsx_import_creates_members_units_and_roles(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("roster", "import", write_xlsx(tmp_path / "ds.xlsx", ROWS)) == 0

    out = capsys.readouterr().out
    assert "4 row(s)" in out
    assert "created: 4" in out
    assert "units created: 4" in out  # province, commune, two chi bộ
    assert "roles granted: 3, revoked: 0" in out
    stored = await members(database)
    assert set(stored) == {"10000001", "10000002", "10000003", "10000004"}
    an, binh, chau, dung = (stored[f"1000000{i}"] for i in range(1, 5))
    assert (an.full_name, an.birth_date, an.phone, an.probationary) == (
        "Nguyễn Văn An",
        date(1980, 3, 12),
        "0912345678",
        False,
    )
    # An Excel date cell, and a phone typed as a number (its leading zero lost).
    assert (binh.birth_date, binh.phone, binh.probationary) == (
        date(1986, 7, 2),
        "0987654321",
        True,
    )
    assert (chau.birth_date, chau.phone) == (date(1998, 11, 20), "0387654321")
    assert (dung.birth_date, dung.phone) == (date(1975, 1, 5), None)
    async with database.session() as session:
        tree = await load_tree(session)
        assert tree.names_path(an.organisation_id) == UNIT_1
        assert tree.names_path(chau.organisation_id) == UNIT_2
        chi_bo = tree.by_id[an.organisation_id]
        commune = tree.by_id[chi_bo.parent_id or 0]
        assert chi_bo.path == f"/{commune.parent_id}/{commune.id}/{chi_bo.id}/"
        grants = {
            (g.member_id, g.role, g.organisation_id)
            for g in await session.scalars(select(RoleGrant))
        }
        audit = (await session.scalars(select(AuditEntry))).all()
    assert grants == {
        (an.id, "secretary", an.organisation_id),
        (chau.id, "deputy_secretary", chau.organisation_id),
        (dung.id, "admin", None),
    }
    assert [(a.action, a.details["created"], a.details["units_created"]) for a in audit] == [
        ("roster.import", 4, 4)
    ]


async def test_a_bad_row_stops_the_import_and_names_its_line(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ROWS[0],
        ["Trần Thị Bình", "31/02/1986", "10000002", "0123", UNIT_1, "", ""],
        ["", "01/01/1990", "10000003", "", UNIT_1, "", ""],
        ["Phạm Quốc Dũng", "", "10000001", "", "", "chủ tịch", "tạm"],
    ]
    assert await sotay("roster", "import", write_xlsx(tmp_path / "ds.xlsx", rows)) == 1

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "line 3: bad birth date (write it as dd/mm/yyyy); bad phone number " + (
        "(a Vietnamese mobile number: 10 digits from 0)"
    )
    assert err[1] == "line 4: missing name"
    assert err[2].startswith("line 5: missing unit; unknown role “chủ tịch”")
    assert "unknown type “tạm”" in err[2]
    assert err[2].endswith("card number repeats line 2")
    assert err[3].startswith("sotay: 3 row(s) with problems: nothing was imported")
    assert await members(database) == {}
    async with database.session() as session:
        assert (await session.scalars(select(Organisation))).all() == []
        assert (await session.scalars(select(AuditEntry))).all() == []


async def test_skip_invalid_imports_the_good_rows_and_lists_the_bad(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [*ROWS[:2], ["Lê Minh Châu", "", "10000003", "12345", UNIT_2, "", ""]]
    path = write_xlsx(tmp_path / "ds.xlsx", rows)

    assert await sotay("roster", "import", path, "--skip-invalid") == 0

    captured = capsys.readouterr()
    assert "skipped line 4: bad phone number" in captured.err
    assert "created: 2" in captured.out
    assert "skipped (problems): 1" in captured.out
    assert set(await members(database)) == {"10000001", "10000002"}


async def test_csv_with_a_bom_and_headers_without_diacritics(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ds.csv"
    path.write_text(
        "\ufeffHO VA TEN;so the dang vien;Don vi;so dien thoai\n"
        f"Đỗ Thanh Nam;10000009;{UNIT_1};84912000111\n",
        encoding="utf-8",
    )
    assert await sotay("roster", "import", path) == 0

    assert "created: 1" in capsys.readouterr().out
    (nam,) = (await members(database)).values()
    assert (nam.full_name, nam.phone, nam.birth_date) == ("Đỗ Thanh Nam", "0912000111", None)


async def test_csv_with_a_bom_and_every_column(database: Database, tmp_path: Path) -> None:
    assert await sotay("roster", "import", write_csv(tmp_path / "ds.csv", ROWS, bom=True)) == 0
    stored = await members(database)
    assert stored["10000002"].probationary is True
    assert stored["10000003"].phone == "0387654321"


async def test_a_missing_required_column_is_one_clear_error(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_xlsx(tmp_path / "ds.xlsx", [["An", "1"]], header=["Họ và tên", "Ngày sinh"])
    assert await sotay("roster", "import", path) == 1
    assert capsys.readouterr().err == (
        "sotay: ds.xlsx has no column “Số thẻ đảng viên”, “Đơn vị” in its header row\n"
    )


async def test_a_file_of_2000_rows(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        [
            f"Đảng viên số {i}",
            f"{i % 28 + 1}/{i % 12 + 1}/19{50 + i % 50}",
            f"2{i:07d}",
            f"09{i:08d}",
            f"Đảng bộ tỉnh Thử/Đảng bộ xã {i % 10}/Chi bộ {i % 40}",
            "bí thư" if i < 40 else "",
            "dự bị" if i % 7 == 0 else "chính thức",
        ]
        for i in range(2000)
    ]
    assert await sotay("roster", "import", write_xlsx(tmp_path / "ds.xlsx", rows)) == 0

    out = capsys.readouterr().out
    assert "created: 2000" in out
    assert "units created: 51" in out  # 1 + 10 + 40: chi bộ i%40 sits in commune i%10
    stored = await members(database)
    assert len(stored) == 2000
    assert stored["20001234"].phone == "0900001234"
    assert sum(m.probationary for m in stored.values()) == len(range(0, 2000, 7))


async def test_reimport_updates_a_changed_phone_without_duplicating(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("roster", "import", write_xlsx(tmp_path / "v1.xlsx", ROWS)) == 0
    before = await members(database)
    changed = [list(row) for row in ROWS]
    changed[1][3] = "0977 000 111"
    capsys.readouterr()

    assert await sotay("roster", "import", write_xlsx(tmp_path / "v2.xlsx", changed)) == 0

    out = capsys.readouterr().out
    assert "created: 0" in out
    assert "updated: 1" in out
    assert "unchanged: 3" in out
    after = await members(database)
    assert len(after) == 4
    assert after["10000002"].phone == "0977000111"
    assert after["10000002"].id == before["10000002"].id


async def test_sync_deactivates_members_missing_from_the_file(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("roster", "import", write_xlsx(tmp_path / "v1.xlsx", ROWS)) == 0
    shorter = write_xlsx(tmp_path / "v2.xlsx", ROWS[:3])
    assert await sotay("roster", "import", shorter) == 0
    assert all(m.active for m in (await members(database)).values())
    capsys.readouterr()

    assert await sotay("roster", "import", shorter, "--sync") == 0

    assert "deactivated: 1" in capsys.readouterr().out
    stored = await members(database)
    assert len(stored) == 4  # never deleted
    assert [card for card, m in stored.items() if not m.active] == ["10000004"]
    # Back on the roster: active again.
    assert await sotay("roster", "import", write_xlsx(tmp_path / "v3.xlsx", ROWS)) == 0
    assert (await members(database))["10000004"].active


async def test_roles_follow_the_roster_but_other_grants_stay(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("roster", "import", write_xlsx(tmp_path / "v1.xlsx", ROWS)) == 0
    # A trainer grant on another unit, made on the command line, is not the roster's.
    assert await sotay("role", "grant", "10000001", "--role", "trainer", "--unit", UNIT_2) == 0
    changed = [list(row) for row in ROWS]
    changed[0][5] = ""  # An is no longer secretary ...
    changed[1][5] = "Bí thư, tập huấn viên"  # ... Bình is, and a trainer
    capsys.readouterr()

    assert await sotay("roster", "import", write_xlsx(tmp_path / "v2.xlsx", changed)) == 0

    assert "roles granted: 2, revoked: 1" in capsys.readouterr().out
    stored = await members(database)
    async with database.session() as session:
        grants = {
            (g.member_id, g.role, g.organisation_id)
            for g in await session.scalars(select(RoleGrant))
        }
    an, binh = stored["10000001"], stored["10000002"]
    unit_1, unit_2 = binh.organisation_id, stored["10000003"].organisation_id
    assert grants == {
        (an.id, "trainer", unit_2),
        (binh.id, "secretary", unit_1),
        (binh.id, "trainer", unit_1),
        (stored["10000003"].id, "deputy_secretary", unit_2),
        (stored["10000004"].id, "admin", None),
    }


async def test_rows_naming_a_merged_unit_are_refused(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("roster", "import", write_xlsx(tmp_path / "v1.xlsx", ROWS[:3])) == 0
    assert await sotay("org", "merge", UNIT_2, UNIT_1) == 0
    capsys.readouterr()

    assert await sotay("roster", "import", write_xlsx(tmp_path / "v2.xlsx", ROWS)) == 1

    err = capsys.readouterr().err
    assert f"line 4: unit “{UNIT_2}” was merged into “{UNIT_1}”" in err
    assert f"line 5: unit “{UNIT_2}” was merged into “{UNIT_1}”" in err
    assert "10000004" not in await members(database)


async def test_a_workbook_with_a_title_row_above_the_header(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["DANH SÁCH ĐẢNG VIÊN"])
    sheet.append(HEADER)
    sheet.append(ROWS[0])
    sheet.append(["Trần Thị Bình", "", "10000002", "0912 345 67", UNIT_1, "", ""])
    workbook.save(tmp_path / "ds.xlsx")

    assert await sotay("roster", "import", tmp_path / "ds.xlsx") == 1

    assert capsys.readouterr().err.startswith("line 4: bad phone number")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("091-234-5678", "0912345678"),
        ("84912345678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("0084912345678", "0912345678"),
        ("912345678", "0912345678"),  # a number cell lost the leading zero
        ("0387654321", "0387654321"),
        ("0562223333", "0562223333"),
        ("0701234567", "0701234567"),
        ("0812345678", "0812345678"),
        ("0212345678", None),  # landline prefix
        ("0112345678", None),
        ("091234567", None),  # too short
        ("09123456789", None),  # too long
        ("+1 650 555 0100", None),
        ("8412345678", None),
        ("0912abc678", None),
        ("", None),
    ],
)
def test_phone_normalisation(text: str, expected: str | None) -> None:
    assert normalise_phone(text) == expected


async def test_audit_of_an_import_holds_no_phone_or_card_number(
    database: Database, tmp_path: Path
) -> None:
    assert await sotay("roster", "import", write_xlsx(tmp_path / "ds.xlsx", ROWS)) == 0
    async with database.session() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    dumped = json.dumps([[e.actor, e.action, e.target, e.details] for e in entries])
    for card in ("10000001", "10000002", "10000003", "10000004"):
        assert card not in dumped
    for phone in ("0912345678", "912345678", "0987654321", "987654321", "0387654321"):
        assert phone not in dumped
