"""`sotay roster import` with the optional probationary-year columns: the admission date and
the two sponsors' card numbers, checked like the other columns."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from bot.db import Database
from tests.test_roster_import import HEADER, UNIT_1, members, sotay, write_xlsx

PROBATION_HEADER = [*HEADER, "Ngày vào Đảng", "Người giới thiệu 1", "Người giới thiệu 2"]
AN = ["Nguyễn Văn An", "12/03/1980", "10000001", "0912 345 678", UNIT_1, "Bí thư", "chính thức"]
HOA = ["Lê Thị Hoa", "01/01/1970", "10000005", "", UNIT_1, "", "chính thức"]
BINH = ["Trần Thị Bình", datetime(1996, 7, 2), "10000002", "", UNIT_1, "", "dự bị"]


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def test_admission_date_and_sponsors_are_imported(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        [*AN, "03/02/2001", "", ""],
        [*HOA, "", "", ""],
        [*BINH, datetime(2026, 1, 15), "1000 0001", "10000005"],
    ]
    path = write_xlsx(tmp_path / "ds.xlsx", rows, header=PROBATION_HEADER)
    assert await sotay("roster", "import", path) == 0

    assert "created: 3" in capsys.readouterr().out
    stored = await members(database)
    binh, an = stored["10000002"], stored["10000001"]
    assert (binh.admission_date, binh.sponsor_card_1, binh.sponsor_card_2) == (
        date(2026, 1, 15),
        "10000001",
        "10000005",
    )
    assert (an.admission_date, an.sponsor_card_1, an.sponsor_card_2) == (
        date(2001, 2, 3),
        None,
        None,
    )
    assert stored["10000005"].admission_date is None


async def test_headers_typed_otherwise_are_recognised(database: Database, tmp_path: Path) -> None:
    header = [*HEADER, "ngay ket nap", "So the nguoi gioi thieu 1", "SỐ THẺ NGƯỜI GIỚI THIỆU 2"]
    rows = [[*AN, "", "", ""], [*BINH, "2026-01-15", "10000001", "10000005"]]
    assert await sotay("roster", "import", write_xlsx(tmp_path / "ds.xlsx", rows, header)) == 0
    binh = (await members(database))["10000002"]
    assert (binh.admission_date, binh.sponsor_card_2) == (date(2026, 1, 15), "10000005")


async def test_bad_probation_cells_name_their_line(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        [*AN, "ngày 3", "", ""],
        [*BINH, "15/01/2026", "10000002", "1" * 40],
    ]
    path = write_xlsx(tmp_path / "ds.xlsx", rows, header=PROBATION_HEADER)
    assert await sotay("roster", "import", path) == 1

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "line 2: bad admission date (write it as dd/mm/yyyy)"
    assert err[1] == (
        "line 3: a member cannot sponsor their own admission; "
        "sponsor's card number longer than 32 characters"
    )
    assert await members(database) == {}


async def test_a_file_without_the_columns_keeps_what_was_imported(
    database: Database, tmp_path: Path
) -> None:
    first = [[*AN, "", "", ""], [*BINH, "15/01/2026", "10000001", ""]]
    path = write_xlsx(tmp_path / "first.xlsx", first, header=PROBATION_HEADER)
    assert await sotay("roster", "import", path) == 0
    # The next roster has no probation columns and a new phone for Bình.
    later = [AN, [*BINH[:3], "0987654321", *BINH[4:]]]
    assert await sotay("roster", "import", write_xlsx(tmp_path / "later.xlsx", later)) == 0
    binh = (await members(database))["10000002"]
    assert (binh.phone, binh.admission_date, binh.sponsor_card_1) == (
        "0987654321",
        date(2026, 1, 15),
        "10000001",
    )
    # A blank cell in a file that has the column clears it (the member was recognised).
    cleared = [[*AN, "", "", ""], [*BINH[:6], "chính thức", "", "", ""]]
    path = write_xlsx(tmp_path / "cleared.xlsx", cleared, header=PROBATION_HEADER)
    assert await sotay("roster", "import", path) == 0
    binh = (await members(database))["10000002"]
    assert (binh.probationary, binh.admission_date, binh.sponsor_card_1) == (False, None, None)
