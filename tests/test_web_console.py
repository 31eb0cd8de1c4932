"""The web console over HTTP: signing in with a one-time link, sessions and CSRF, each page
on the demo data, and the scope rules (a secretary of one chi bộ cannot see or act on a
sibling's: 403/404, nothing done)."""

from __future__ import annotations

import asyncio
import io
import re
import socket
from dataclasses import replace

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.chat import ChatCore
from bot.cli import main
from bot.messages import Channel
from bot.models import (
    ActivationCode,
    AuditEntry,
    Broadcast,
    ChannelAccount,
    CommitteeQuestion,
    HandbookQuery,
    Member,
    Quiz,
    WebLogin,
)
from bot.runtime import serving_console
from bot.services.permissions import Role
from bot.services.roles import RoleService
from bot.services.web_logins import NoConsoleAccess, hash_token
from bot.settings import Settings
from bot.texts import text
from bot.web.sessions import COOKIE_NAME
from handlers import build_router
from tests.harness import say
from tests.web_harness import (
    ADMIN,
    MEMBER,
    OFFICE,
    SECRETARY,
    SIBLING,
    SIBLING_SECRETARY,
    TRAINER,
    Console,
)

pytestmark = pytest.mark.usefixtures("console")
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")


async def count(console: Console, model: type) -> int:
    async with console.database.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


# --- signing in -------------------------------------------------------------------------


async def test_a_link_signs_in_once_with_a_strict_http_only_cookie(console: Console) -> None:
    token = await console.link_token(ADMIN)
    response = await console.client.post(
        "/admin/dangnhap", data={"token": token}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin/" in cookie
    page = await (await console.client.get("/admin/")).text()
    assert "Tổng quan" in page and "Phạm Quốc Dũng" in page

    console.client.session.cookie_jar.clear()
    again = await console.client.post("/admin/dangnhap", data={"token": token})
    assert again.status == 400
    assert "không dùng được" in await again.text()


async def test_only_a_hash_of_the_token_is_stored(console: Console) -> None:
    token = await console.link_token(ADMIN)
    async with console.database.session() as session:
        stored = list(await session.scalars(select(WebLogin.token_hash)))
    assert stored == [hash_token(console.shared.keys, token)] and token not in stored


async def test_a_link_expires_after_five_minutes(console: Console) -> None:
    token = await console.link_token(SECRETARY)
    console.clock.advance(minutes=5, seconds=1)
    response = await console.client.post("/admin/dangnhap", data={"token": token})
    assert response.status == 400
    assert "quá 5 phút" in await response.text()


async def test_a_wrong_or_huge_token_gets_the_clear_page(console: Console) -> None:
    for token in ("", "x" * 5000, "không-phải-mã"):
        response = await console.client.post("/admin/dangnhap", data={"token": token})
        assert response.status == 400
        assert "Liên kết đăng nhập không dùng được" in await response.text()


async def test_the_sign_in_page_carries_no_token_and_uses_no_internet_asset(
    console: Console,
) -> None:
    page = await (await console.client.get("/admin/dangnhap")).text()
    assert 'action="/admin/dangnhap"' in page and "Đăng nhập" in page
    assert "http://" not in page and "https://" not in page
    script = await console.client.get("/admin/static/login.js")
    assert script.status == 200 and "location.hash" in await script.text()


async def test_a_member_without_a_role_gets_no_link(console: Console) -> None:
    with pytest.raises(NoConsoleAccess):
        await console.link_token(MEMBER)


async def test_pages_need_a_session(console: Console) -> None:
    for path in ("/admin/", "/admin/ma-kich-hoat", "/admin/thong-bao", "/admin/hop-thu"):
        response = await console.client.get(path)
        assert response.status == 401, path
        assert "Cần đăng nhập" in await response.text()


async def test_a_forged_cookie_is_refused(console: Console) -> None:
    await console.sign_in(ADMIN)
    real = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/admin/"))
    login_id, seen, _mac = real[COOKIE_NAME].value.split(".")
    console.client.session.cookie_jar.update_cookies(
        {COOKIE_NAME: f"{int(login_id) + 1}.{seen}.{'0' * 64}"},
        console.client.make_url("/admin/"),
    )
    assert (await console.client.get("/admin/")).status == 401


async def test_a_session_ends_after_fifteen_idle_minutes(console: Console) -> None:
    await console.sign_in(SECRETARY)
    console.clock.advance(minutes=14)
    assert (await console.client.get("/admin/")).status == 200  # moves the deadline on
    console.clock.advance(minutes=14)
    assert (await console.client.get("/admin/")).status == 200
    console.clock.advance(minutes=15, seconds=1)
    assert (await console.client.get("/admin/")).status == 401


async def test_signing_out_ends_the_session_on_the_server(console: Console) -> None:
    await console.sign_in(SECRETARY)
    url = console.client.make_url("/admin/")
    kept = console.client.session.cookie_jar.filter_cookies(url)[COOKIE_NAME].value
    response = await console.client.post("/admin/dangxuat", data={"csrf": await console.csrf()})
    assert response.status == 200 and "Đã đăng xuất" in await response.text()
    console.client.session.cookie_jar.update_cookies({COOKIE_NAME: kept}, url)
    assert (await console.client.get("/admin/")).status == 401
    async with console.database.session() as session:
        acts = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert acts[-2:] == ["web.login", "web.logout"]


async def test_every_post_needs_the_session_csrf_token(console: Console) -> None:
    await console.sign_in(SECRETARY)
    office = await console.unit(OFFICE)
    for form in ({"unit": str(office)}, {"unit": str(office), "csrf": "0" * 64}):
        response = await console.client.post("/admin/ma-kich-hoat", data=form)
        assert response.status == 403
        assert "Biểu mẫu đã cũ" in await response.text()
    assert await count(console, ActivationCode) == 0


async def test_a_post_from_another_site_is_refused(console: Console) -> None:
    await console.sign_in(SECRETARY)
    form = {"unit": str(await console.unit(OFFICE)), "csrf": await console.csrf()}
    response = await console.client.post(
        "/admin/ma-kich-hoat", data=form, headers={"Origin": "https://evil.example"}
    )
    assert response.status == 403
    assert await count(console, ActivationCode) == 0


async def test_pages_send_security_headers(console: Console) -> None:
    response = await console.client.get("/admin/dangnhap")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_command_prints_a_link_that_signs_in(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", console.database.url)
    code = await asyncio.to_thread(
        main, ["web", "login-link", "--card", ADMIN, "--base-url", "http://127.0.0.1:8080"]
    )
    out = capsys.readouterr().out
    assert code == 0
    link = out.splitlines()[0]
    assert link.startswith("http://127.0.0.1:8080/admin/dangnhap#")
    response = await console.client.post(
        "/admin/dangnhap", data={"token": link.partition("#")[2]}, allow_redirects=False
    )
    assert response.status == 303


async def test_the_command_refuses_a_card_without_a_role(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", console.database.url)
    code = await asyncio.to_thread(main, ["web", "login-link", "--card", MEMBER])
    err = capsys.readouterr().err
    assert code == 1
    assert "no active member with a secretary, trainer or admin role" in err
    assert MEMBER not in err


# --- Tổng quan --------------------------------------------------------------------------


async def _link_on_telegram(console: Console, card: str) -> None:
    async with console.database.session() as session, session.begin():
        member = await session.scalar(select(Member.id).where(Member.card_number == card))
        session.add(
            ChannelAccount(
                channel=Channel.TELEGRAM, external_id=card, chat_id=card, member_id=member
            )
        )


async def test_the_admin_sees_every_unit_and_the_province_total(console: Console) -> None:
    await _link_on_telegram(console, MEMBER)
    await console.sign_in(ADMIN)
    page = await (await console.client.get("/admin/")).text()
    assert "1/12" in page
    for unit in ("Đảng bộ tỉnh Demo", OFFICE, SIBLING, "Chi bộ thôn Đông", "Chi bộ thôn Tây"):
        assert unit in page


async def test_a_secretary_sees_only_their_chi_bo(console: Console) -> None:
    await _link_on_telegram(console, MEMBER)
    await console.sign_in(SECRETARY)
    page = await (await console.client.get("/admin/")).text()
    assert OFFICE in page and "1/3" in page and "33.3%" in page
    assert SIBLING not in page and "Chi bộ thôn Đông" not in page
    assert "Nhật ký" not in page  # admins only


async def test_the_overview_downloads_as_xlsx(console: Console) -> None:
    await console.sign_in(SECRETARY)
    response = await console.client.get("/admin/tong-quan.xlsx")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await response.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Đơn vị"
    assert [row[:2] for row in rows[1:]] == [(OFFICE, 3)]


# --- Mã kích hoạt -----------------------------------------------------------------------


async def test_a_secretary_issues_codes_for_their_chi_bo_as_a_printable_sheet(
    console: Console,
) -> None:
    await console.sign_in(SECRETARY)
    codes_page = await (await console.client.get("/admin/ma-kich-hoat")).text()
    assert OFFICE in codes_page and SIBLING not in codes_page
    form = {"unit": str(await console.unit(OFFICE)), "format": "print"}
    response = await console.client.post(
        "/admin/ma-kich-hoat", data={**form, "csrf": await console.csrf()}
    )
    page = await response.text()
    assert response.status == 200
    assert "Lê Minh Châu" in page and len(CODE.findall(page)) == 1
    assert "Trần Thị Bình" not in page  # linked already
    async with console.database.session() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "codes.issue"))
    assert entry is not None and entry.actor.startswith("member:")


async def test_codes_download_as_xlsx(console: Console) -> None:
    await console.sign_in(SECRETARY)
    form = {"unit": str(await console.unit(OFFICE)), "format": "xlsx"}
    response = await console.client.post(
        "/admin/ma-kich-hoat", data={**form, "csrf": await console.csrf()}
    )
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Lê Minh Châu" and CODE.fullmatch(rows[1][2])


async def test_codes_for_a_sibling_chi_bo_are_refused_and_none_issued(console: Console) -> None:
    await console.sign_in(SECRETARY)
    form = {"unit": str(await console.unit(SIBLING)), "csrf": await console.csrf()}
    response = await console.client.post("/admin/ma-kich-hoat", data=form)
    assert response.status == 403
    assert "không có quyền" in await response.text()
    for bad in ("abc", "999999"):
        response = await console.client.post(
            "/admin/ma-kich-hoat", data={"unit": bad, "csrf": form["csrf"]}
        )
        assert response.status in (400, 403)
    assert await count(console, ActivationCode) == 0


async def test_a_trainer_may_not_issue_codes_or_send_notices(console: Console) -> None:
    await console.sign_in(TRAINER)
    assert (await console.client.get("/admin/")).status == 200
    for path in ("/admin/ma-kich-hoat", "/admin/thong-bao", "/admin/hop-thu", "/admin/nhat-ky"):
        assert (await console.client.get(path)).status == 403, path


# --- Thông báo --------------------------------------------------------------------------


async def test_a_notice_is_previewed_sent_and_reported(console: Console) -> None:
    await console.sign_in(SECRETARY)
    office = str(await console.unit(OFFICE))
    csrf = await console.csrf("/admin/thong-bao")
    form = {"text": "Họp chi bộ tối thứ Sáu.", "unit": office, "csrf": csrf}
    preview = await (await console.client.post("/admin/thong-bao/xem-truoc", data=form)).text()
    assert "3 đảng viên" in preview and "2 nhận qua Bảng điều khiển" in preview
    assert "1 chưa liên kết" in preview and "Nguyễn Văn An, Chi bộ Văn phòng" in preview
    assert await count(console, Broadcast) == 0  # a preview sends nothing

    sent = await console.client.post("/admin/thong-bao/gui", data=form, allow_redirects=False)
    assert sent.status == 303
    report_path = sent.headers["Location"]
    page = await (await console.client.get(report_path)).text()
    assert "Đang gửi" in page and 'http-equiv="refresh"' in page

    await console.deliver()
    page = await (await console.client.get(report_path)).text()
    assert "Đã gửi xong" in page and 'http-equiv="refresh"' not in page
    assert "Lê Minh Châu" in page and "Chưa liên kết tài khoản" in page
    member_chat = await console.chat_of(MEMBER)
    assert any(
        chat == member_chat and "Họp chi bộ tối thứ Sáu." in text
        for chat, text in console.sender.sent
    )


async def test_a_notice_to_a_sibling_chi_bo_is_refused_and_not_sent(console: Console) -> None:
    await console.sign_in(SECRETARY)
    form = {
        "text": "Giả mạo",
        "unit": [str(await console.unit(OFFICE)), str(await console.unit(SIBLING))],
        "csrf": await console.csrf(),
    }
    for path in ("/admin/thong-bao/xem-truoc", "/admin/thong-bao/gui"):
        data = [("text", form["text"]), ("csrf", form["csrf"])]
        data += [("unit", unit) for unit in form["unit"]]
        response = await console.client.post(path, data=data)
        assert response.status == 403, path
    assert await count(console, Broadcast) == 0


async def test_an_empty_or_overlong_notice_gets_a_clear_message(console: Console) -> None:
    await console.sign_in(SECRETARY)
    office, csrf = str(await console.unit(OFFICE)), await console.csrf()
    for body in ("   ", "x" * 1801):
        response = await console.client.post(
            "/admin/thong-bao/gui", data={"text": body, "unit": office, "csrf": csrf}
        )
        assert response.status == 400
        assert "tối đa 1800 ký tự" in await response.text()
    assert await count(console, Broadcast) == 0


async def test_a_sibling_secretary_cannot_read_the_notice_report(console: Console) -> None:
    await console.sign_in(SECRETARY)
    form = {"text": "Nội bộ", "unit": str(await console.unit(OFFICE))}
    sent = await console.client.post(
        "/admin/thong-bao/gui",
        data={**form, "csrf": await console.csrf()},
        allow_redirects=False,
    )
    report_path = sent.headers["Location"]
    console.client.session.cookie_jar.clear()
    await console.sign_in(SIBLING_SECRETARY)
    assert (await console.client.get(report_path)).status == 404
    assert (await console.client.get("/admin/thong-bao/không-phải-số")).status == 404


# --- Hộp thư ----------------------------------------------------------------------------


async def test_an_inbox_answer_reaches_the_member(console: Console) -> None:
    await console.sign_in(SECRETARY)
    page = await (await console.client.get("/admin/hop-thu")).text()
    found = re.search(r'action="/admin/hop-thu/(\d+)"', page)
    assert found is not None and "họp trực tuyến qua Zalo" in page
    response = await console.client.post(
        f"/admin/hop-thu/{found.group(1)}",
        data={"answer": "Được, theo Hướng dẫn 12.", "csrf": await console.csrf()},
    )
    page = await response.text()
    assert response.status == 200 and "Đã gửi câu trả lời" in page
    assert "họp trực tuyến qua Zalo" not in page
    await console.deliver()
    member_chat = await console.chat_of(MEMBER)
    assert any(
        chat == member_chat and "Được, theo Hướng dẫn 12." in text
        for chat, text in console.sender.sent
    )


async def test_a_sibling_secretary_cannot_see_or_answer_the_question(console: Console) -> None:
    await console.sign_in(SIBLING_SECRETARY)
    page = await (await console.client.get("/admin/hop-thu")).text()
    assert "Không có câu hỏi nào" in page
    async with console.database.session() as session:
        question_id = await session.scalar(select(CommitteeQuestion.id))
    response = await console.client.post(
        f"/admin/hop-thu/{question_id}", data={"answer": "Giả mạo", "csrf": await console.csrf()}
    )
    assert response.status == 404
    async with console.database.session() as session:
        assert await session.scalar(select(CommitteeQuestion.answer)) is None


# --- Nhật ký ----------------------------------------------------------------------------


async def test_the_audit_log_is_for_admins_and_filters(console: Console) -> None:
    await console.sign_in(SECRETARY)
    assert (await console.client.get("/admin/nhat-ky")).status == 403
    console.client.session.cookie_jar.clear()
    await console.sign_in(ADMIN)
    page = await (await console.client.get("/admin/nhat-ky")).text()
    assert "web.login" in page and "role.grant" in page
    page = await (await console.client.get("/admin/nhat-ky", params={"viec": "web"})).text()
    assert "web.login" in page and "role.grant" not in page
    page = await (await console.client.get("/admin/nhat-ky", params={"tu_ngay": "hôm qua"})).text()
    assert "Ngày không hợp lệ" in page


# --- /dangnhap in the chat --------------------------------------------------------------


async def test_dangnhap_in_the_chat_sends_a_link_that_signs_in(console: Console) -> None:
    await _link_on_telegram(console, MEMBER)
    await _link_on_telegram(console, SECRETARY)
    core = ChatCore(console.database, build_router(), console.shared)
    (refused,) = await say(core, MEMBER, "/dangnhap")
    assert refused.text == text("weblogin.not_allowed")
    (reply,) = await say(core, SECRETARY, "/dangnhap")
    assert "dùng một lần, trong 5 phút" in reply.text
    link = next(line for line in reply.text.splitlines() if "/admin/dangnhap#" in line)
    assert link.startswith("http://127.0.0.1:8080/admin/dangnhap#")
    response = await console.client.post(
        "/admin/dangnhap", data={"token": link.partition("#")[2]}, allow_redirects=False
    )
    assert response.status == 303
    assert "Nguyễn Văn An" in await (await console.client.get("/admin/")).text()


async def test_the_console_chat_serves_the_web_console_when_a_port_is_set(
    console: Console, settings: Settings
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with_port = replace(settings, http_port=port, http_port_set=True)
    async with (
        serving_console(with_port, console.database, console.shared),
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/admin/dangnhap") as response,
    ):
        assert response.status == 200
        assert "Đăng nhập trang quản trị" in await response.text()


# --- Lịch họp ---------------------------------------------------------------------------


async def test_meetings_show_the_chi_bos_coming_meetings_and_attendance(console: Console) -> None:
    await console.sign_in(SECRETARY)
    page = await (await console.client.get("/admin/lich-hop")).text()
    assert "28/11/2026 14:00" in page and "Sinh hoạt thường kỳ" in page
    assert "Phòng họp tầng 2" in page and "Tập huấn" in page
    assert "78% (7/9)" in page  # the demo's marked meetings this year
    console.client.session.cookie_jar.clear()
    await console.sign_in(SIBLING_SECRETARY)
    page = await (await console.client.get("/admin/lich-hop")).text()
    assert "Phòng họp tầng 2" not in page and OFFICE not in page.split("<main>")[1]


# --- Trắc nghiệm ------------------------------------------------------------------------


async def _quiz_id(console: Console, title: str) -> int:
    async with console.database.session() as session:
        found = await session.scalar(select(Quiz.id).where(Quiz.title == title))
    assert found is not None
    return found


async def test_a_trainer_reads_a_closed_quizs_results_with_its_files(console: Console) -> None:
    await console.sign_in(TRAINER)
    listing = await (await console.client.get("/admin/trac-nghiem")).text()
    assert "Ôn tập về đảng phí" in listing and "Đã đóng" in listing
    quiz = await _quiz_id(console, "Ôn tập về đảng phí")
    page = await (await console.client.get(f"/admin/trac-nghiem/{quiz}")).text()
    assert "5/6" in page and "72%" in page and "Câu hỏi sai nhiều nhất" in page
    assert OFFICE in page and SIBLING in page
    workbook = await console.client.get(f"/admin/trac-nghiem/{quiz}/ket-qua.xlsx")
    assert workbook.status == 200
    assert load_workbook(io.BytesIO(await workbook.read())).sheetnames[0]
    chart = await console.client.get(f"/admin/trac-nghiem/{quiz}/bieu-do.png")
    assert chart.content_type == "image/png" and (await chart.read())[:4] == b"\x89PNG"


async def test_quiz_results_follow_the_quiz_scope(console: Console) -> None:
    # A trainer for one chi bộ only may not read a quiz for four of them.
    sibling = await console.unit(SIBLING)
    async with console.database.session() as session, session.begin():
        member = await session.scalar(
            select(Member.id).where(Member.card_number == SIBLING_SECRETARY)
        )
        await RoleService(session).grant(member, Role.TRAINER, sibling, actor="test")
    await console.sign_in(SIBLING_SECRETARY)
    quiz = await _quiz_id(console, "Ôn tập về đảng phí")
    assert "Ôn tập về đảng phí" not in await (await console.client.get("/admin/trac-nghiem")).text()
    for path in (f"/admin/trac-nghiem/{quiz}", f"/admin/trac-nghiem/{quiz}/ket-qua.xlsx"):
        assert (await console.client.get(path)).status == 404, path
    console.client.session.cookie_jar.clear()
    await console.sign_in(SECRETARY)  # no trainer role at all
    assert (await console.client.get("/admin/trac-nghiem")).status == 403


# --- Câu hỏi chưa có trong Sổ tay -------------------------------------------------------


async def test_editors_see_missed_questions_grouped_admins_only(console: Console) -> None:
    now = console.clock()
    async with console.database.session() as session, session.begin():
        for question, answered, helpful in (
            ("Đảng viên đi xuất khẩu lao động có phải chuyển sinh hoạt không?", False, None),
            ("dang vien di xuat khau lao dong co phai chuyen sinh hoat khong", False, None),
            ("Đảng phí đóng bao nhiêu?", True, False),
            ("Đảng phí đóng bao nhiêu?", True, True),  # answered and liked: not listed
        ):
            session.add(
                HandbookQuery(
                    asked_at=now, question=question, answered=answered, score=0.2, helpful=helpful
                )
            )
    await console.sign_in(SECRETARY)
    assert (await console.client.get("/admin/cau-hoi-chua-co")).status == 403
    console.client.session.cookie_jar.clear()
    await console.sign_in(ADMIN)
    page = await (await console.client.get("/admin/cau-hoi-chua-co")).text()
    rows = re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td></tr>", page)
    assert rows[0] == ("Đảng viên đi xuất khẩu lao động có phải chuyển sinh hoạt không?", "2")
    assert ("Đảng phí đóng bao nhiêu?", "1") in rows


async def test_a_failure_shows_a_vietnamese_page_and_writes_nothing(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("bot.services.codes.CodeService.issue_for_unit", broken)
    await console.sign_in(SECRETARY)
    form = {"unit": str(await console.unit(OFFICE)), "csrf": await console.csrf()}
    response = await console.client.post("/admin/ma-kich-hoat", data=form)
    assert response.status == 500
    assert "không có gì được ghi" in await response.text()
    async with console.database.session() as session:
        acts = set(await session.scalars(select(AuditEntry.action)))
    assert "codes.issue" not in acts


# --- Đảng viên --------------------------------------------------------------------------


async def test_members_are_found_by_name_within_the_scope_without_cards_or_phones(
    console: Console,
) -> None:
    await console.sign_in(SECRETARY)
    csrf = await console.csrf("/admin/dang-vien")
    page = await (
        await console.client.post("/admin/dang-vien", data={"ten": "le minh chau", "csrf": csrf})
    ).text()
    assert "Lê Minh Châu" in page and "Chưa" in page and "Dự bị" in page
    assert "90000003" not in page and "0900000" not in page
    sibling = await (
        await console.client.post("/admin/dang-vien", data={"ten": "Khang", "csrf": csrf})
    ).text()
    assert "Vũ Đức Khang" not in sibling and "Không tìm thấy" in sibling
    roles = page.split('id="roles"')[1]
    assert "Nguyễn Văn An" in roles and "Bí thư" in roles
    assert "Vũ Đức Khang" not in roles and "Phạm Quốc Dũng" not in roles  # sibling, admin


async def test_the_admin_finds_members_everywhere(console: Console) -> None:
    await console.sign_in(ADMIN)
    page = await (
        await console.client.post(
            "/admin/dang-vien", data={"ten": "Khang", "csrf": await console.csrf()}
        )
    ).text()
    assert "Vũ Đức Khang" in page and "Bảng điều khiển" in page


async def test_the_audit_log_filters_by_person_and_date(console: Console) -> None:
    await console.sign_in(SECRETARY)
    console.client.session.cookie_jar.clear()
    await console.sign_in(ADMIN)
    async with console.database.session() as session:
        secretary = await session.scalar(select(Member.id).where(Member.card_number == SECRETARY))
    mine = await (
        await console.client.get("/admin/nhat-ky", params={"nguoi": f"member:{secretary}"})
    ).text()
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", mine)
    assert {actor for actor, _ in rows} == {f"member:{secretary}"}
    assert ("web.login" in {act for _, act in rows}) and len(rows) >= 2
    # Entries are stamped by the database's clock, not the test's: dates far either side.
    for day, listed in (("2000-01-01", True), ("2100-01-01", False)):
        page = await (await console.client.get("/admin/nhat-ky", params={"tu_ngay": day})).text()
        assert (f"member:{secretary}</td><td>web.login" in page) is listed, day
