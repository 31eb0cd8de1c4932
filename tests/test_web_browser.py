"""The web console in a real browser: Debian's chromium driven by Playwright, against the
console served on 127.0.0.1 over the demo data. Each test saves screenshots of the pages it
visits (SOTAY_SCREENSHOT_DIR, by default var/screenshots/ in the project): they are what
the committee will see."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.messages import Channel
from bot.models import ChannelAccount, Member, Quiz
from bot.services import Services
from bot.web.paths import login_url
from tests.web_harness import ADMIN, MEMBER, OFFICE, SECRETARY, SIBLING, TRAINER, Console

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # the test extras install it; without it these tests are skipped
    async_playwright = None

CHROMIUM = Path(os.environ.get("SOTAY_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.skipif(
        async_playwright is None, reason="playwright is not installed: pip install playwright"
    ),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}: apt-get install chromium"
    ),
]
TIMEOUT_MS = 15_000


@pytest.fixture
def screenshots(project_root: Path) -> Path:
    folder = Path(os.environ.get("SOTAY_SCREENSHOT_DIR", project_root / "var" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert async_playwright is not None
    async with async_playwright() as playwright:
        # Root in a container has no user namespace for chromium's sandbox.
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


async def signed_in(browser: Browser, console: Console, card: str) -> Page:
    """A fresh browser context that opened a sign-in link and pressed «Đăng nhập»."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    base = str(console.client.make_url("/")).rstrip("/")
    await page.goto(login_url(base, await console.link_token(card)))
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url("**/admin/")
    return page


async def test_sign_in_with_a_link_and_see_the_demo_figures(
    browser: Browser, console: Console, screenshots: Path
) -> None:
    async with console.database.session() as session, session.begin():
        member = await session.scalar(select(Member.id).where(Member.card_number == MEMBER))
        session.add(
            ChannelAccount(
                channel=Channel.TELEGRAM, external_id="t1", chat_id="t1", member_id=member
            )
        )
    page = await signed_in(browser, console, ADMIN)
    # The token left the address bar once the form had it.
    assert "#" not in page.url
    assert await page.inner_text("h1") == "Tổng quan"
    assert await page.inner_text("#linked-total") == "1/12"
    assert await page.inner_text("#linked-rate") == "8.3%"
    table = await page.inner_text("table.report")
    for unit in (OFFICE, SIBLING, "Chi bộ thôn Đông", "Chi bộ thôn Tây"):
        assert unit in table
    # The quiz and meeting columns, visible on an office screen.
    office = page.locator("table.report tr", has_text=OFFICE)
    await expect(office.locator("td.quiz-took")).to_have_text("67% (2/3)")
    await expect(office.locator("td.quiz-passed")).to_have_text("50% (1/2)")
    await expect(office.locator("td.attendance")).to_have_text("78% (7/9)")
    for heading in ("Làm bài", "Đạt", "Dự họp"):
        await expect(page.locator("table.report th", has_text=heading).first).to_be_visible()
    await page.screenshot(path=screenshots / "tong-quan.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.screenshot(path=screenshots / "tong-quan-dien-thoai.png", full_page=True)
    # On a phone the table scrolls sideways to its quiz and meeting columns.
    attendance = office.locator("td.attendance")
    before = await attendance.bounding_box()
    assert before is not None and before["x"] > 390
    await page.locator("div.scroll").evaluate("table => { table.scrollLeft = table.scrollWidth; }")
    after = await attendance.bounding_box()
    assert after is not None and after["x"] + after["width"] <= 390
    await page.screenshot(path=screenshots / "tong-quan-dien-thoai-cuon.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})  # the office screen again
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Tải bảng (.xlsx)").click()
    saved = screenshots.parent / "tong-quan.xlsx"
    await (await download.value).save_as(saved)
    rows = list(load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("Đảng bộ tỉnh Demo", 12)
    assert rows[0][-4:] == ("Tỷ lệ làm bài", "Tỷ lệ đạt", "Buổi họp", "Tỷ lệ dự họp")
    await page.get_by_role("link", name="Lịch họp").click()
    assert "Sinh hoạt thường kỳ" in await page.inner_text("#coming")
    await page.screenshot(path=screenshots / "lich-hop.png", full_page=True)
    await page.get_by_role("link", name="Trắc nghiệm").click()
    await page.get_by_role("link", name="Ôn tập về đảng phí").click()
    assert await page.inner_text("#took") == "5/6"
    await page.screenshot(path=screenshots / "trac-nghiem.png", full_page=True)
    await page.goto(str(console.client.make_url("/admin/nhat-ky")))
    assert "web.login" in await page.inner_text("#audit")
    await page.screenshot(path=screenshots / "nhat-ky.png", full_page=True)
    await page.get_by_role("link", name="Câu hỏi chưa có").click()
    assert "họp trực tuyến qua Zalo" in await page.inner_text("main")
    await page.screenshot(path=screenshots / "cau-hoi-chua-co.png", full_page=True)


async def test_a_used_link_shows_a_clear_page(
    browser: Browser, console: Console, screenshots: Path
) -> None:
    token = await console.link_token(SECRETARY)
    used = await console.client.post(
        "/admin/dangnhap", data={"token": token}, allow_redirects=False
    )
    assert used.status == 303
    page = await (await browser.new_context()).new_page()
    await page.goto(login_url(str(console.client.make_url("/")).rstrip("/"), token))
    await page.get_by_role("button", name="Đăng nhập").click()
    assert "không dùng được" in await page.inner_text("h1")
    assert "/dangnhap" in await page.inner_text("main")
    await page.screenshot(path=screenshots / "lien-ket-het-han.png", full_page=True)
    await page.goto(str(console.client.make_url("/admin/")))
    assert "Cần đăng nhập" in await page.inner_text("main")


async def test_issue_activation_codes_and_download_the_sheet(
    browser: Browser, console: Console, screenshots: Path, tmp_path: Path
) -> None:
    page = await signed_in(browser, console, SECRETARY)
    await page.get_by_role("link", name="Mã kích hoạt").click()
    await page.screenshot(path=screenshots / "ma-kich-hoat.png", full_page=True)
    row = page.locator("tr", has_text=OFFICE)
    async with page.expect_download() as download:
        await row.get_by_role("button", name="Tải .xlsx").click()
    sheet = tmp_path / "codes.xlsx"
    await (await download.value).save_as(sheet)
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["Lê Minh Châu"]
    await page.goto(str(console.client.make_url("/admin/ma-kich-hoat")))
    await page.locator("tr", has_text=OFFICE).get_by_role("button", name="Bảng để in").click()
    codes = await page.inner_text("table.codes")
    assert "Lê Minh Châu" in codes and codes.count("-") >= 1
    await page.screenshot(path=screenshots / "ma-kich-hoat-bang-in.png", full_page=True)


async def test_send_a_notice_and_watch_its_report(
    browser: Browser, console: Console, screenshots: Path
) -> None:
    page = await signed_in(browser, console, SECRETARY)
    await page.get_by_role("link", name="Thông báo").click()
    await page.fill("#text", "Họp chi bộ tối thứ Sáu, 19 giờ.")
    await page.get_by_label(OFFICE).check()
    await page.screenshot(path=screenshots / "thong-bao-soan.png", full_page=True)
    await page.get_by_role("button", name="Xem trước").click()
    audience = await page.inner_text("#audience")
    assert "3 đảng viên" in audience and "1 chưa liên kết" in audience
    await page.screenshot(path=screenshots / "thong-bao-xem-truoc.png", full_page=True)
    await page.get_by_role("button", name="Gửi thông báo").click()
    assert "Đang gửi" in await page.inner_text("#state")
    await console.deliver()
    # The report page refreshes itself until every message has an outcome.
    await expect(page.locator("#state")).to_contain_text("Đã gửi xong", timeout=TIMEOUT_MS)
    assert "Lê Minh Châu" in await page.inner_text("#unreached")
    await page.screenshot(path=screenshots / "thong-bao-bao-cao.png", full_page=True)
    member_chat = await console.chat_of(MEMBER)
    assert any("19 giờ" in text for chat, text in console.sender.sent if chat == member_chat)


async def test_answer_an_inbox_question_and_it_reaches_the_member(
    browser: Browser, console: Console, screenshots: Path
) -> None:
    page = await signed_in(browser, console, SECRETARY)
    await page.get_by_role("link", name="Hộp thư").click()
    await page.screenshot(path=screenshots / "hop-thu.png", full_page=True)
    await page.get_by_label("Trả lời").fill("Được, nếu chi bộ thống nhất và ghi biên bản.")
    await page.get_by_role("button", name="Gửi câu trả lời").click()
    assert "Đã gửi câu trả lời" in await page.inner_text("main")
    await console.deliver()
    member_chat = await console.chat_of(MEMBER)
    assert any("ghi biên bản" in text for chat, text in console.sender.sent if chat == member_chat)
    await page.get_by_role("link", name="Đảng viên").click()
    await page.get_by_label("Tìm theo tên").fill("binh")
    await page.get_by_role("button", name="Tìm").click()
    assert "Trần Thị Bình" in await page.inner_text("#found")
    await page.screenshot(path=screenshots / "dang-vien.png", full_page=True)


async def test_a_sibling_units_page_is_refused(
    browser: Browser, console: Console, screenshots: Path
) -> None:
    async with console.database.session() as session, session.begin():
        services = Services.for_session(session, console.shared)
        sibling = await console.unit(SIBLING)
        broadcast_id, _ = await services.broadcasts.send(
            actor="test", body="Chỉ cho Sở Tư pháp", unit_ids=[sibling], signature="Ban Tổ chức"
        )
    page = await signed_in(browser, console, SECRETARY)
    response = await page.goto(str(console.client.make_url(f"/admin/thong-bao/{broadcast_id}")))
    assert response is not None and response.status == 404
    assert "Chỉ cho Sở Tư pháp" not in await page.content()
    await page.screenshot(path=screenshots / "tu-choi.png", full_page=True)


async def test_upload_a_roster_see_its_errors_then_preview_and_apply_it(
    browser: Browser, console: Console, screenshots: Path, tmp_path: Path
) -> None:
    office = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp/Chi bộ Văn phòng"
    header = "Họ và tên,Số thẻ đảng viên,Đơn vị\n"
    bad, good = tmp_path / "sai.csv", tmp_path / "danh-sach.csv"
    bad.write_text(f"{header}Ngô Văn Mới,91000001,{office}\n,91000002,{office}\n")
    good.write_text(f"{header}Ngô Văn Mới,91000001,{office}\n")
    page = await signed_in(browser, console, SECRETARY)
    await page.get_by_role("link", name="Đảng viên").click()
    await page.get_by_role("link", name="Tải danh sách đảng viên").click()
    await page.screenshot(path=screenshots / "dang-vien-tai-len.png", full_page=True)
    await page.set_input_files("input[type=file]", bad)
    await page.get_by_role("button", name="Xem trước").click()
    assert "Dòng 3: thiếu họ và tên" in await page.inner_text("#problems")
    assert await page.get_by_role("button", name="Áp dụng danh sách").count() == 0
    await page.screenshot(path=screenshots / "dang-vien-loi.png", full_page=True)
    async with console.database.session() as session:
        assert (
            await session.scalar(select(Member.id).where(Member.card_number == "91000001")) is None
        )
    await page.get_by_role("link", name="Tải tệp khác").click()
    await page.set_input_files("input[type=file]", good)
    await page.get_by_role("button", name="Xem trước").click()
    assert "Ngô Văn Mới" in await page.inner_text("#added")
    await page.screenshot(path=screenshots / "dang-vien-xem-truoc.png", full_page=True)
    await page.get_by_role("button", name="Áp dụng danh sách").click()
    assert "Thêm mới: 1" in await page.inner_text("#summary")
    async with console.database.session() as session:
        name = await session.scalar(
            select(Member.full_name).where(Member.card_number == "91000001")
        )
    assert name == "Ngô Văn Mới"


async def test_a_trainer_schedules_a_quiz_from_the_browser(
    browser: Browser, console: Console, screenshots: Path
) -> None:
    page = await signed_in(browser, console, TRAINER)
    await page.screenshot(path=screenshots / "tong-quan-bieu-do.png", full_page=True)
    await page.get_by_role("link", name="Trắc nghiệm").click()
    await page.get_by_role("link", name="Ngân hàng câu hỏi").click()
    await page.screenshot(path=screenshots / "ngan-hang-cau-hoi.png", full_page=True)
    await page.get_by_role("link", name="Trắc nghiệm").click()
    await page.get_by_role("link", name="Lên lịch bài trắc nghiệm").click()
    await page.get_by_label("Tên bài").fill("Kiểm tra nhanh")
    await page.get_by_label(OFFICE).check()
    tomorrow = console.clock().astimezone(console.shared.settings.timezone) + timedelta(days=1)
    await page.get_by_label("Mở lúc").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    closes = tomorrow + timedelta(days=7)
    await page.get_by_label("Đóng lúc").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Đảng phí (9 câu)").check()
    await page.get_by_label("Số câu mỗi lượt").fill("5")
    await page.get_by_label("Thời gian mỗi câu (giây)").fill("60")
    await page.get_by_label("Hiện giải thích sau mỗi câu").uncheck()
    await page.screenshot(path=screenshots / "trac-nghiem-len-lich.png", full_page=True)
    await page.get_by_role("button", name="Lên lịch").click()
    assert await page.inner_text("h1") == "Kiểm tra nhanh"
    assert "Chưa mở" in await page.inner_text("main")
    async with console.database.session() as session:
        quiz = await session.scalar(select(Quiz).where(Quiz.title == "Kiểm tra nhanh"))
    assert quiz is not None
    assert (quiz.topics, quiz.question_count, quiz.seconds_per_question) == (["Đảng phí"], 5, 60)
    assert quiz.shuffle_questions and quiz.shuffle_choices and not quiz.show_explanations
