"""Đảng viên → Tải danh sách: a roster file previewed (added, updated, moved, leaving,
line-numbered errors in Vietnamese) with nothing written, then applied through the same
service as `sotay roster import`; a secretary's file stays within their chi bộ."""

from __future__ import annotations

import base64
import re

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.models import AuditEntry, Member
from tests.web_harness import ADMIN, SECRETARY, TRAINER, Console

pytestmark = pytest.mark.usefixtures("console")
KHOI = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp"
OFFICE_PATH = f"{KHOI}/Chi bộ Văn phòng"
SIBLING_PATH = f"{KHOI}/Chi bộ Sở Tư pháp"
HEADER = "Họ và tên,Số thẻ đảng viên,Đơn vị,Loại\n"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def roster_csv(*lines: str) -> bytes:
    return (HEADER + "".join(f"{line}\n" for line in lines)).encode()


async def _members(console: Console) -> dict[str, tuple[str, bool]]:
    async with console.database.session() as session:
        rows = await session.execute(select(Member.card_number, Member.full_name, Member.active))
    return {card: (name, active) for card, name, active in rows}


async def _post_file(
    console: Console, content: bytes, name: str = "danh sach.csv", sync: bool = False
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf", await console.csrf("/admin/dang-vien/tai-len"))
    form.add_field("file", content, filename=name, content_type="text/csv")
    if sync:
        form.add_field("sync", "1")
    return await console.client.post("/admin/dang-vien/xem-truoc", data=form)


async def test_a_preview_shows_each_change_and_writes_nothing_until_applied(
    console: Console,
) -> None:
    await console.sign_in(SECRETARY)
    before = await _members(console)
    content = roster_csv(
        f"Nguyễn Văn An,90000001,{OFFICE_PATH},",
        f"Trần Thị Bình Mới,90000002,{OFFICE_PATH},",
        f"Ngô Văn Mới,91000001,{OFFICE_PATH},dự bị",
        f"Lý Thị Tổ,91000002,{OFFICE_PATH}/Tổ đảng 1,",
    )
    response = await _post_file(console, content, sync=True)
    page = await response.text()
    assert response.status == 200, page
    assert "Ngô Văn Mới" in page.split('id="added"')[1].split("</table>")[0]
    assert "Trần Thị Bình Mới" in page.split('id="updated"')[1].split("</table>")[0]
    assert "Lê Minh Châu" in page.split('id="leaving"')[1].split("</table>")[0]
    assert f"{OFFICE_PATH}/Tổ đảng 1" in page  # a unit to be created
    assert "Vũ Đức Khang" not in page  # the sibling chi bộ's members do not leave
    assert await _members(console) == before

    fields = dict(_HIDDEN.findall(page))
    applied = await console.client.post("/admin/dang-vien/ap-dung", data=fields)
    text = await applied.text()
    assert applied.status == 200, text
    assert "Thêm mới: 2" in text and "Ngừng sinh hoạt: 1" in text
    after = await _members(console)
    assert after["91000001"] == ("Ngô Văn Mới", True)
    assert after["90000002"] == ("Trần Thị Bình Mới", True)
    assert after["90000003"] == ("Lê Minh Châu", False)
    assert after["90000006"] == before["90000006"]
    async with console.database.session() as session:
        actor = await session.scalar(
            select(AuditEntry.actor).where(AuditEntry.action == "roster.import")
        )
    assert actor is not None and actor.startswith("member:")


async def test_a_member_moving_between_units_is_listed_as_moved(console: Console) -> None:
    await console.sign_in(ADMIN)
    response = await _post_file(console, roster_csv(f"Lê Minh Châu,90000003,{SIBLING_PATH},"))
    moved = (await response.text()).split('id="moved"')[1].split("</table>")[0]
    assert "Lê Minh Châu" in moved and "Chi bộ Văn phòng" in moved and "Chi bộ Sở Tư pháp" in moved


async def test_bad_rows_are_listed_by_line_in_vietnamese_and_nothing_can_be_applied(
    console: Console,
) -> None:
    await console.sign_in(SECRETARY)
    before = await _members(console)
    content = roster_csv(
        f"Ngô Văn Mới,91000001,{OFFICE_PATH},",
        f",91000002,{OFFICE_PATH},",
        f"Hà Văn Lạ,91000003,{OFFICE_PATH},tạm thời",
    )
    page = await (await _post_file(console, content)).text()
    assert "2 dòng có lỗi" in page
    assert "Dòng 3: thiếu họ và tên" in page
    assert "Dòng 4: loại «tạm thời» không rõ (chính thức hoặc dự bị)" in page
    assert "/admin/dang-vien/ap-dung" not in page
    assert await _members(console) == before


async def test_a_secretarys_file_may_not_touch_a_sibling_chi_bo(console: Console) -> None:
    await console.sign_in(SECRETARY)
    before = await _members(console)
    content = roster_csv(
        f"Ngô Văn Mới,91000001,{SIBLING_PATH},",
        f"Vũ Đức Khang,90000006,{OFFICE_PATH},",
    )
    page = await (await _post_file(console, content)).text()
    assert "Dòng 2: đơn vị nằm ngoài phạm vi của bạn" in page
    assert "Dòng 3: đảng viên này đang thuộc đơn vị ngoài phạm vi của bạn" in page
    assert "/admin/dang-vien/ap-dung" not in page
    assert await _members(console) == before


async def test_a_forged_or_changed_confirmation_writes_nothing(console: Console) -> None:
    await console.sign_in(SECRETARY)
    before = await _members(console)
    page = await (
        await _post_file(console, roster_csv(f"Ngô Văn Mới,91000001,{OFFICE_PATH},"))
    ).text()
    fields = dict(_HIDDEN.findall(page))
    forged = roster_csv(f"Ngô Văn Mới,91000001,{SIBLING_PATH},")
    fields["content"] = base64.b64encode(forged).decode()
    response = await console.client.post("/admin/dang-vien/ap-dung", data=fields)
    assert response.status == 400
    assert "không khớp" in await response.text()
    del fields["csrf"]
    assert (await console.client.post("/admin/dang-vien/ap-dung", data=fields)).status == 403
    assert await _members(console) == before


async def test_the_roles_column_is_for_admins(console: Console) -> None:
    await console.sign_in(SECRETARY)
    content = (
        f"Họ và tên,Số thẻ đảng viên,Đơn vị,Vai trò\nTrần Thị Bình,90000002,{OFFICE_PATH},bí thư\n"
    ).encode()
    response = await _post_file(console, content)
    assert response.status == 403
    assert "Chỉ quản trị viên" in await response.text()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"Ten,So the\nA,1\n", "ds.csv", "Tệp ds.csv thiếu cột «Họ và tên», «Số thẻ đảng viên»"),
        (b"not a workbook", "ds.xlsx", "Không đọc được tệp ds.xlsx"),
        (b"abc", "ds.pdf", "chỉ nhận bảng tính .xlsx hoặc .csv"),
        ("Họ và tên".encode("utf-16"), "ds.csv", "không phải văn bản UTF-8"),
        (b"", "ds.csv", "Hãy chọn tệp"),
    ],
)
async def test_a_bad_file_gets_a_vietnamese_message(
    console: Console, content: bytes, name: str, message: str
) -> None:
    await console.sign_in(SECRETARY)
    before = await _members(console)
    response = await _post_file(console, content, name=name)
    assert response.status == 400
    assert message in await response.text()
    assert await _members(console) == before


async def test_a_huge_file_is_refused(console: Console) -> None:
    await console.sign_in(SECRETARY)
    response = await _post_file(console, b"x" * (800 * 1024))
    assert response.status == 413
    assert "Tệp quá lớn" in await response.text()


async def test_a_trainer_may_not_upload_a_roster(console: Console) -> None:
    await console.sign_in(TRAINER)
    assert (await console.client.get("/admin/dang-vien/tai-len")).status == 403
    response = await _post_file_raw(console)
    assert response.status == 403
    async with console.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 12


async def _post_file_raw(console: Console) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf", await console.csrf("/admin/"))
    form.add_field("file", roster_csv(f"X,91000001,{OFFICE_PATH},"), filename="a.csv")
    return await console.client.post("/admin/dang-vien/xem-truoc", data=form)
