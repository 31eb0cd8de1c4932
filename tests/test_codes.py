"""Activation codes: issued per unit, handed out as a spreadsheet, redeemed once, stored only
as hashes."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text

from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.keys import Keys
from bot.models import ActivationCode, AuditEntry, ChannelAccount, Member
from bot.services.codes import ALPHABET, CodeService, generate_code, hash_code, normalise_code
from tests.harness import unit_id
from tests.secret import TEST_SECRET_KEY

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OFFICES = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp"


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


@pytest.fixture
async def demo(database: Database) -> None:
    """The demo roster: six members under OFFICES, one of them (90000002) linked to the
    console."""
    async with database.session() as session, session.begin():
        await seed_demo(session)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


async def card_of(database: Database, member_id: int) -> str:
    async with database.session() as session:
        member = await session.get(Member, member_id)
    assert member is not None
    return member.card_number


def test_codes_look_like_abcd_efgh_without_look_alikes() -> None:
    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
        assert not set(code.replace("-", "")) & set("0O1I")
    assert set(ALPHABET).isdisjoint("0O1I")


def test_normalise_and_hash() -> None:
    assert normalise_code(" abcd-efgh ") == "ABCDEFGH"
    assert normalise_code("ab cd ef gh") == "ABCDEFGH"
    keys = Keys(TEST_SECRET_KEY.encode())
    assert hash_code(keys, "abcd efgh") == hash_code(keys, "ABCD-EFGH")
    assert re.fullmatch(r"[0-9a-f]{64}", hash_code(keys, "ABCD-EFGH"))
    # Keyed: another secret gives another hash, and neither is the plain SHA-256.
    assert hash_code(Keys(b"another secret key, 32 characters+"), "ABCD-EFGH") != hash_code(
        keys, "ABCD-EFGH"
    )
    assert hash_code(keys, "ABCD-EFGH") != hashlib.sha256(b"ABCDEFGH").hexdigest()


async def test_issue_for_a_unit_gives_unlinked_active_members_a_code(
    database: Database, demo: None, keys: Keys
) -> None:
    offices = await unit_id(database, "Đảng bộ Khối các cơ quan và doanh nghiệp")
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == "90000006"))
        assert member is not None
        member.active = False
        issued = await CodeService(session, keys).issue_for_unit(offices, issued_by="test", now=NOW)

    cards = {await card_of(database, code.member_id) for code in issued}
    # 90000002 is linked (the console), 90000006 left the roster, the rest are elsewhere.
    assert cards == {"90000001", "90000003", "90000004", "90000005"}
    assert [code.unit_name for code in issued] == [
        "Chi bộ Sở Tư pháp",
        "Chi bộ Sở Tư pháp",
        "Chi bộ Văn phòng",
        "Chi bộ Văn phòng",
    ]
    assert all(code.expires_at == NOW + timedelta(days=14) for code in issued)
    async with database.session() as session, session.begin():
        everyone = await CodeService(session, keys).issue_for_unit(
            offices, issued_by="test", now=NOW, include_linked=True
        )
    assert len(everyone) == 5


async def test_a_code_is_redeemed_once(database: Database, demo: None, keys: Keys) -> None:
    office = await unit_id(database, "Chi bộ Văn phòng")
    async with database.session() as session, session.begin():
        issued = await CodeService(session, keys).issue_for_unit(office, issued_by="test", now=NOW)
    code = issued[0]

    async with database.session() as session, session.begin():
        codes = CodeService(session, keys)
        assert await codes.redeem(code.code.lower().replace("-", " "), now=NOW) == code.member_id
        assert await codes.redeem(code.code, now=NOW) is None
    async with database.session() as session:
        stored = await session.scalar(
            select(ActivationCode).where(ActivationCode.member_id == code.member_id)
        )
    assert stored is not None and stored.used_at == NOW


async def test_an_expired_or_unknown_code_is_refused(
    database: Database, demo: None, keys: Keys
) -> None:
    office = await unit_id(database, "Chi bộ Văn phòng")
    async with database.session() as session, session.begin():
        (first, *_) = await CodeService(session, keys).issue_for_unit(
            office, issued_by="t", now=NOW
        )
    async with database.session() as session, session.begin():
        codes = CodeService(session, keys)
        assert await codes.redeem(first.code, now=NOW + timedelta(days=14)) is None
        assert await codes.redeem("ABCD-EFGH", now=NOW) is None
        assert await codes.redeem("not a code at all", now=NOW) is None
        assert await codes.redeem(first.code, now=NOW + timedelta(days=13)) == first.member_id


async def test_a_new_code_replaces_the_unused_old_one(
    database: Database, demo: None, keys: Keys
) -> None:
    office = await unit_id(database, "Chi bộ Văn phòng")
    async with database.session() as session, session.begin():
        old = await CodeService(session, keys).issue_for_unit(office, issued_by="t", now=NOW)
    async with database.session() as session, session.begin():
        new = await CodeService(session, keys).issue_for_unit(office, issued_by="t", now=NOW)
    async with database.session() as session, session.begin():
        codes = CodeService(session, keys)
        assert await codes.redeem(old[0].code, now=NOW) is None
        assert await codes.redeem(new[0].code, now=NOW) == new[0].member_id
        stored = (await session.scalars(select(ActivationCode))).all()
    assert len(stored) == len(new)


async def test_a_member_who_left_cannot_redeem(database: Database, demo: None, keys: Keys) -> None:
    office = await unit_id(database, "Chi bộ Văn phòng")
    async with database.session() as session, session.begin():
        (first, *_) = await CodeService(session, keys).issue_for_unit(
            office, issued_by="t", now=NOW
        )
        member = await session.get(Member, first.member_id)
        assert member is not None
        member.active = False
    async with database.session() as session, session.begin():
        assert await CodeService(session, keys).redeem(first.code, now=NOW) is None


async def test_cli_writes_the_codes_to_a_sheet_and_stores_only_hashes(
    database: Database, demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: Keys
) -> None:
    out = tmp_path / "ma.xlsx"

    assert await sotay("codes", "issue", "--unit", OFFICES, "--out", out) == 0

    assert capsys.readouterr().out == f"5 code(s) written to {out}, valid for 14 days\n"
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Họ và tên", "Đơn vị", "Mã kích hoạt", "Hết hạn"]
    assert [(name, unit) for name, unit, _, _ in rows[1:]] == [
        # By unit, then by given name, as Vietnamese lists go.
        ("Phạm Quốc Dũng", "Chi bộ Sở Tư pháp"),
        ("Hoàng Thị Hà", "Chi bộ Sở Tư pháp"),
        ("Vũ Đức Khang", "Chi bộ Sở Tư pháp"),
        ("Nguyễn Văn An", "Chi bộ Văn phòng"),
        ("Lê Minh Châu", "Chi bộ Văn phòng"),
    ]
    codes = [code for _, _, code, _ in rows[1:]]
    assert all(isinstance(expiry, datetime) for *_, expiry in rows[1:])
    # Nothing in the file a secretary does not need: no card or phone numbers.
    cells = " ".join(str(cell) for row in rows for cell in row)
    assert not re.search(r"\d{7,}", cells)

    async with database.session() as session:
        dump = " ".join(
            str(value)
            for row in (await session.execute(text("SELECT * FROM activation_codes"))).all()
            for value in row
        )
        assert all(hash_code(keys, code) in dump for code in codes)
        # No plain SHA-256 of a code: a copy of the database cannot be searched offline.
        for code in codes:
            assert hashlib.sha256(normalise_code(code).encode()).hexdigest() not in dump
        for code in codes:
            assert code not in dump and normalise_code(code) not in dump
        (entry,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "codes.issue")
        )
        assert entry.details == {"count": 5}
    async with database.session() as session, session.begin():
        redeemed = {
            await CodeService(session, keys).redeem(code, now=datetime.now(UTC)) for code in codes
        }
        linked = set(await session.scalars(select(ChannelAccount.member_id)))
    assert len(redeemed) == 5 and None not in redeemed and not redeemed & linked


async def test_cli_refuses_a_merged_unit_and_a_bad_file_name(
    database: Database, demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sotay("codes", "issue", "--unit", OFFICES, "--out", tmp_path / "ma.csv") == 1
    assert capsys.readouterr().err == "sotay: --out must name a .xlsx file\n"
    assert await sotay("codes", "issue", "--unit", "Không có", "--out", tmp_path / "ma.xlsx") == 1
    assert capsys.readouterr().err == "sotay: no unit “Không có” (see sotay org list)\n"
    assert not (tmp_path / "ma.xlsx").exists()
