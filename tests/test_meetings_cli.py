"""`sotay meetings import` (a good file, a file with bad rows: nothing written) and
`sotay report attendance` (the cells of each unit's sheet and the summary's flag)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.models import Meeting
from tests.test_attendance import AN, BINH, CHAU, HELD, seed_year
from tests.test_meeting_reminders import HCM, Clock

OFFICES = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp"
OFFICE = f"{OFFICES}/Chi bộ Văn phòng"
JUSTICE = f"{OFFICES}/Chi bộ Sở Tư pháp"
HEADERS = ["ĐƠN VỊ", "Loai", "Ngày", "Giờ", "Địa điểm", "Nội dung"]


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


def workbook(path: Path, rows: list[list[object]], headers: list[str] = HEADERS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


async def meetings(database: Database) -> list[tuple[int, str, datetime | None, str, str | None]]:
    async with database.session() as session:
        rows = await session.execute(
            select(
                Meeting.organisation_id,
                Meeting.kind,
                Meeting.starts_at,
                Meeting.place,
                Meeting.agenda,
            ).order_by(Meeting.starts_at)
        )
        return [
            (unit, kind, at and at.astimezone(HCM), place, agenda)
            for unit, kind, at, place, agenda in rows
        ]


async def test_a_good_calendar_is_imported(
    database: Database, units: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workbook(
        tmp_path / "lich.xlsx",
        [
            [OFFICE, "Thường kỳ", "05/01/2099", "19h30", "Hội trường A", "Tổng kết năm"],
            [f" {JUSTICE} ", "chuyen de", datetime(2099, 1, 10), time(14, 0), "Phòng họp 2", None],
            [None, None, None, None, None, None],
            [OFFICE, "TẬP HUẤN", date(2099, 2, 3), "7 giờ sáng", "Trường Chính trị", ""],
        ],
    )
    assert await sotay("meetings", "import", path) == 0
    assert "3 meeting(s) imported" in capsys.readouterr().out
    office, justice = units["Chi bộ Văn phòng"], units["Chi bộ Sở Tư pháp"]
    assert await meetings(database) == [
        (
            office,
            "regular",
            datetime(2099, 1, 5, 19, 30, tzinfo=HCM),
            "Hội trường A",
            "Tổng kết năm",
        ),
        (justice, "themed", datetime(2099, 1, 10, 14, 0, tzinfo=HCM), "Phòng họp 2", None),
        (office, "training", datetime(2099, 2, 3, 7, 0, tzinfo=HCM), "Trường Chính trị", None),
    ]
    # The same file again: every row is already there.
    assert await sotay("meetings", "import", path) == 1
    assert "dòng 2: đơn vị đã có cuộc họp vào thời gian này" in capsys.readouterr().err


async def test_bad_rows_are_reported_by_line_and_nothing_is_written(
    database: Database, units: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workbook(
        tmp_path / "lich.xlsx",
        [
            [f"{OFFICES}/Chi bộ Không Có", "Thường kỳ", "05/01/2099", "19h30", "Hội trường", None],
            [OFFICE, "họp mặt", "05/01/2099", "19h30", "Hội trường", None],
            [OFFICE, "Thường kỳ", "31/02/2099", "19h30", "Hội trường", None],
            [OFFICE, "Thường kỳ", "06/01/2099", "25h", None, None],
            [JUSTICE, "Khác", "07/01/2099", "8:00", "Hội trường", None],
            [JUSTICE, "Khác", "07/01/2099", "8h", "Phòng khác", None],
        ],
    )
    assert await sotay("meetings", "import", path) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        f"dòng 2: không có đơn vị “{OFFICES}/Chi bộ Không Có”",
        "dòng 3: loại “họp mặt” không rõ (một trong: thường kỳ, chuyên đề, tập huấn, khác)",
    ]
    assert err[2] == "dòng 4: ngày “31/02/2099” không đúng dạng dd/mm/yyyy hoặc không có thật"
    assert err[3] == "dòng 5: Giờ «25h» không hợp lệ; thiếu địa điểm"
    assert err[4] == "dòng 7: trùng đơn vị và thời gian với dòng 6"
    assert err[5] == f"sotay: 5 bad row(s) in {path}; nothing imported"
    assert await meetings(database) == []


async def test_a_missing_column_is_named(
    database: Database, units: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workbook(tmp_path / "lich.xlsx", [[OFFICE, "Thường kỳ", "05/01/2099"]], HEADERS[:3])
    assert await sotay("meetings", "import", path) == 1
    assert capsys.readouterr().err.strip() == f"sotay: {path}: thiếu cột Giờ, Địa điểm"


async def test_the_attendance_report_cells(
    database: Database, units: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_year(database, Clock(), units["Chi bộ Văn phòng"])
    out = tmp_path / "chuyen-can.xlsx"
    assert (
        await sotay("report", "attendance", "--unit", OFFICES, "--year", "2025", "--out", out) == 0
    )
    assert "2 unit sheet(s)" in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", "Chi bộ Sở Tư pháp", "Chi bộ Văn phòng"]
    office = book["Chi bộ Văn phòng"]
    rows = [[cell.value for cell in row] for row in office.iter_rows()]
    assert rows[0] == [
        "Họ và tên",
        *[at.strftime("%d/%m %H:%M") for at in HELD],
        "Có mặt",
        "Vắng có lý do",
        "Vắng không lý do",
    ]
    assert rows[1:] == [
        [CHAU, "✗", "✗", "✗", "✗", "✗", 0, 1, 4],
        [AN, "✓", "✓", None, "✓", "✓", 4, 0, 0],
        [BINH, "✗", "✗", "✓", "✗", None, 1, 1, 2],
    ]
    assert office["D2"].comment is not None and office["D2"].comment.text == "Ốm"
    assert office["E4"].comment.text == "Công tác"
    assert office["B2"].comment is None
    summary = [[cell.value for cell in row] for row in book["Tổng hợp"].iter_rows()]
    assert summary[4:] == [
        ["Chi bộ Văn phòng", CHAU, 0, 1, 4, 0, "02, 03, 05", "Có"],
        ["Chi bộ Văn phòng", AN, 4, 0, 0, 1, None, None],
        ["Chi bộ Văn phòng", BINH, 1, 1, 2, 1, "02, 03", None],
    ]
    assert [row[1] for row in summary[1:4]] == ["Hoàng Thị Hà", "Phạm Quốc Dũng", "Vũ Đức Khang"]
