"""The console's rules over plain HTTP, route by route: who may open each page (the
permission matrix), that every form carries the session's CSRF token and every POST route
refuses a form without it, with a wrong one or from another site (403, nothing done), and
that a sibling chi bộ's units and items are refused wherever a form or address names them."""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.models import (
    ActivationCode,
    AuditEntry,
    Broadcast,
    CommitteeQuestion,
    Member,
    Quiz,
    QuizQuestionRow,
    RoleGrant,
    WebLogin,
)
from bot.web.app import build_admin_app
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
KHOI = "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp"
ROSTER = (
    f"Họ và tên,Số thẻ đảng viên,Đơn vị,Loại\nNgô Văn Mới,91000001,{KHOI}/Chi bộ Văn phòng,\n"
).encode()
QUESTIONS = (
    "Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề\n"
    "Đảng viên dự bị có quyền biểu quyết không?,Có,Không,,,B,Điều 5.,Quyền\n"
).encode()
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)


async def _id(console: Console, model: type, *where: object) -> int:
    async with console.database.session() as session:
        found = await session.scalar(select(model.id).where(*where))  # type: ignore[attr-defined]
    assert found is not None
    return found


async def _closed_quiz(console: Console) -> int:
    return await _id(console, Quiz, Quiz.title == "Ôn tập về đảng phí")


async def _question(console: Console) -> int:
    return await _id(console, CommitteeQuestion)


async def _member(console: Console, card: str) -> int:
    return await _id(console, Member, Member.card_number == card)


# --- who may open each page -------------------------------------------------------------

# Status per signed-in seat: admin, secretary of Chi bộ Văn phòng, trainer for every unit.
PAGES = [
    ("/admin/", 200, 200, 200),
    ("/admin/tong-quan.xlsx", 200, 200, 200),
    ("/admin/dang-vien", 200, 200, 200),
    ("/admin/dang-vien/tai-len", 200, 200, 403),
    ("/admin/ma-kich-hoat", 200, 200, 403),
    ("/admin/thong-bao", 200, 200, 403),
    ("/admin/lich-hop", 200, 200, 200),
    ("/admin/trac-nghiem", 200, 403, 200),
    ("/admin/trac-nghiem/ngan-hang", 200, 403, 200),
    ("/admin/trac-nghiem/len-lich", 200, 403, 200),
    ("/admin/trac-nghiem/{quiz}", 200, 403, 200),
    ("/admin/trac-nghiem/{quiz}/ket-qua.xlsx", 200, 403, 200),
    ("/admin/trac-nghiem/{quiz}/bieu-do.png", 200, 403, 200),
    ("/admin/hop-thu", 200, 200, 403),
    ("/admin/cau-hoi-chua-co", 200, 403, 403),
    ("/admin/nhat-ky", 200, 403, 403),
    ("/admin/khong-co-trang-nay", 404, 404, 404),
]


@pytest.mark.parametrize(("card", "column"), [(ADMIN, 1), (SECRETARY, 2), (TRAINER, 3)])
async def test_the_permission_matrix_of_every_page(
    console: Console, card: str, column: int
) -> None:
    quiz = await _closed_quiz(console)
    for row in PAGES:
        path = row[0].format(quiz=quiz)
        assert (await console.client.get(path)).status == 401, path  # before signing in
    await console.sign_in(card)
    seen = {}
    for row in PAGES:
        response = await console.client.get(row[0].format(quiz=quiz))
        seen[row[0]] = response.status
        if response.status == 403:
            assert "không có quyền" in await response.text(), row[0]
    assert seen == {row[0]: row[column] for row in PAGES}


async def test_the_matrix_names_every_page(console: Console) -> None:
    app = build_admin_app(console.database, console.shared)
    pages = {
        f"/admin{route.resource.canonical}"
        for route in app.router.routes()
        if route.method == "GET" and route.resource is not None
    }
    listed = {row[0] for row in PAGES} | {"/admin/dangnhap", "/admin/static"}
    assert pages <= listed | {"/admin/thong-bao/{broadcast}"}


# --- CSRF on every form -----------------------------------------------------------------

Form = Callable[[Console, "str | None"], Awaitable[aiohttp.FormData]]


def _fields(csrf: str | None, **fields: str | list[str]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            form.add_field(name, one)
    return form


def _file(csrf: str | None, content: bytes, name: str, **fields: str) -> aiohttp.FormData:
    form = _fields(csrf, **fields)
    form.add_field("file", content, filename=name, content_type="text/csv")
    return form


async def _office(console: Console) -> str:
    return str(await console.unit(OFFICE))


async def _when(console: Console, days: int) -> str:
    moment = console.clock() + timedelta(days=days)
    return moment.astimezone(console.shared.settings.timezone).strftime("%Y-%m-%dT%H:%M")


async def _sign_out(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _fields(csrf)


async def _search(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _fields(csrf, ten="Bình")


async def _grant(console: Console, csrf: str | None) -> aiohttp.FormData:
    member = str(await _member(console, MEMBER))
    return _fields(csrf, member=member, role="trainer", unit=await _office(console))


async def _revoke(console: Console, csrf: str | None) -> aiohttp.FormData:
    member = str(await _member(console, SECRETARY))
    return _fields(csrf, member=member, role="secretary", unit=await _office(console))


async def _roster_preview(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _file(csrf, ROSTER, "danh sach.csv")


async def _roster_apply(console: Console, csrf: str | None) -> aiohttp.FormData:
    """The confirming form a real preview returns, its token left out or replaced."""
    preview = await console.client.post(
        "/admin/dang-vien/xem-truoc", data=await _roster_preview(console, await console.csrf())
    )
    fields = dict(_HIDDEN.findall(await preview.text()))
    assert base64.b64decode(fields["content"]) == ROSTER
    del fields["csrf"]
    return _fields(csrf, **fields)


async def _codes(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _fields(csrf, unit=await _office(console))


async def _notice(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _fields(csrf, text="Họp chi bộ tối thứ Sáu.", unit=await _office(console))


async def _bank(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _file(csrf, QUESTIONS, "dot2.csv", bank="Đợt 2")


async def _quiz(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _fields(
        csrf,
        title="Kiểm tra điều lệ",
        bank="kien-thuc-co-ban",
        questions="5",
        opens=await _when(console, 1),
        closes=await _when(console, 8),
        unit=await _office(console),
    )


async def _answer(console: Console, csrf: str | None) -> aiohttp.FormData:
    return _fields(csrf, answer="Được, theo Hướng dẫn 12.")


# Each POST route, a form it accepts, and what it answers when the token is right.
POSTS: list[tuple[str, Form, int]] = [
    ("/admin/dangxuat", _sign_out, 200),
    ("/admin/dang-vien", _search, 200),
    ("/admin/vai-tro/cap", _grant, 303),
    ("/admin/vai-tro/thu-hoi", _revoke, 303),
    ("/admin/dang-vien/xem-truoc", _roster_preview, 200),
    ("/admin/dang-vien/ap-dung", _roster_apply, 200),
    ("/admin/ma-kich-hoat", _codes, 200),
    ("/admin/thong-bao/xem-truoc", _notice, 200),
    ("/admin/thong-bao/gui", _notice, 303),
    ("/admin/trac-nghiem/ngan-hang", _bank, 200),
    ("/admin/trac-nghiem/len-lich", _quiz, 303),
    ("/admin/hop-thu/{question}", _answer, 303),
]


async def _state(console: Console) -> dict[str, int]:
    """What a refused form must leave as it was."""
    async with console.database.session() as session:

        async def rows(model: type, *where: object) -> int:
            query = select(func.count()).select_from(model).where(*where)
            return await session.scalar(query) or 0

        return {
            "audit": await rows(AuditEntry),
            "members": await rows(Member),
            "roles": await rows(RoleGrant),
            "codes": await rows(ActivationCode),
            "notices": await rows(Broadcast),
            "questions": await rows(QuizQuestionRow),
            "quizzes": await rows(Quiz),
            "answered": await rows(CommitteeQuestion, CommitteeQuestion.answer.isnot(None)),
            "signed_out": await rows(WebLogin, WebLogin.ended_at.isnot(None)),
        }


@pytest.mark.parametrize(("path", "form", "accepted"), POSTS, ids=[p[0] for p in POSTS])
async def test_every_post_refuses_a_missing_wrong_or_foreign_token(
    console: Console, path: str, form: Form, accepted: int
) -> None:
    await console.sign_in(ADMIN)
    path = path.format(question=await _question(console))
    csrf = await console.csrf()
    attempts = [
        ({}, await form(console, None), "Biểu mẫu đã cũ"),
        ({}, await form(console, "0" * 64), "Biểu mẫu đã cũ"),
        ({}, await form(console, csrf[:-1]), "Biểu mẫu đã cũ"),
        (
            {"Origin": "https://evil.example"},
            await form(console, csrf),
            "không đến từ trang quản trị",
        ),
    ]
    before = await _state(console)
    for headers, data, message in attempts:
        response = await console.client.post(path, data=data, headers=headers)
        assert response.status == 403, (path, message)
        assert message in await response.text()
    assert await _state(console) == before
    # The same form with the page's token is taken: the refusals were the token's.
    response = await console.client.post(
        path, data=await form(console, csrf), allow_redirects=False
    )
    assert response.status == accepted, await response.text()


async def test_the_list_names_every_post_route(console: Console) -> None:
    app = build_admin_app(console.database, console.shared)
    routes = {
        f"/admin{route.resource.canonical}"
        for route in app.router.routes()
        if route.method == "POST" and route.resource is not None
    }
    assert routes - {"/admin/dangnhap"} == {path for path, _, _ in POSTS}


async def test_every_form_on_every_page_carries_the_sessions_token(console: Console) -> None:
    await console.sign_in(ADMIN)
    csrf = await console.csrf()
    pages = [
        await (await console.client.get(path)).text()
        for path in (
            "/admin/",
            "/admin/dang-vien/tai-len",
            "/admin/ma-kich-hoat",
            "/admin/thong-bao",
            "/admin/trac-nghiem/ngan-hang",
            "/admin/trac-nghiem/len-lich",
            "/admin/hop-thu",
        )
    ]
    for path, form in (
        ("/admin/dang-vien", _search),
        ("/admin/dang-vien/xem-truoc", _roster_preview),
        ("/admin/thong-bao/xem-truoc", _notice),
    ):
        pages.append(await (await console.client.post(path, data=await form(console, csrf))).text())
    actions = set()
    for page in pages:
        for action, body in _FORM.findall(page):
            assert f'name="csrf" value="{csrf}"' in body, action
            actions.add(re.sub(r"/\d+$", "/{question}", action))
    assert actions == {path for path, _, _ in POSTS}


# --- a sibling chi bộ's units and items -------------------------------------------------


async def _sibling_items(console: Console) -> dict[str, int]:
    """A notice the sibling secretary sent and the sibling's inbox question."""
    await console.sign_in(SIBLING_SECRETARY)
    sibling = str(await console.unit(SIBLING))
    sent = await console.client.post(
        "/admin/thong-bao/gui",
        data=_fields(await console.csrf(), text="Nội bộ chi bộ Tư pháp", unit=sibling),
        allow_redirects=False,
    )
    assert sent.status == 303
    console.client.session.cookie_jar.clear()
    return {"notice": int(sent.headers["Location"].rsplit("/", 1)[1])}


async def test_a_sibling_chi_bos_units_and_items_are_refused_everywhere(
    console: Console,
) -> None:
    items = await _sibling_items(console)
    await console.sign_in(SECRETARY)
    csrf = await console.csrf()
    sibling = str(await console.unit(SIBLING))
    khang = str(await _member(console, SIBLING_SECRETARY))
    quiz = await _closed_quiz(console)
    before = await _state(console)
    forged_posts = [
        ("/admin/ma-kich-hoat", _fields(csrf, unit=sibling)),
        ("/admin/ma-kich-hoat", _fields(csrf, unit=sibling, format="xlsx")),
        ("/admin/thong-bao/xem-truoc", _fields(csrf, text="Giả mạo", unit=sibling)),
        ("/admin/thong-bao/gui", _fields(csrf, text="Giả mạo", unit=sibling)),
        ("/admin/vai-tro/cap", _fields(csrf, member=khang, role="trainer", unit=sibling)),
        ("/admin/vai-tro/thu-hoi", _fields(csrf, member=khang, role="secretary", unit=sibling)),
        ("/admin/trac-nghiem/len-lich", await _quiz(console, csrf)),
    ]
    for path, data in forged_posts:
        response = await console.client.post(path, data=data)
        assert response.status == 403, path
        assert "không có quyền" in await response.text(), path
    # Items of the sibling (or of no one) named in an address: not found, as if none.
    for path in (
        f"/admin/thong-bao/{items['notice']}",
        "/admin/thong-bao/999999",
        "/admin/hop-thu/999999",
    ):
        response = await (
            console.client.post(path, data=_fields(csrf, answer="Giả mạo"))
            if "hop-thu" in path
            else console.client.get(path)
        )
        assert response.status == 404, path
        assert "Không tìm thấy" in await response.text()
    for path in (f"/admin/trac-nghiem/{quiz}", f"/admin/trac-nghiem/{quiz}/ket-qua.xlsx"):
        assert (await console.client.get(path)).status == 403, path  # no trainer role
    # Pages that list things show none of the sibling's.
    for path in ("/admin/", "/admin/lich-hop", "/admin/ma-kich-hoat", "/admin/thong-bao"):
        main = (await (await console.client.get(path)).text()).split("<main>")[1]
        assert SIBLING not in main, path
    assert await _state(console) == before


# --- uploads too big or of the wrong kind -----------------------------------------------

HUGE = b"x" * (1536 * 1024)  # over the web app's 1 MiB request limit


@pytest.mark.parametrize(
    ("path", "fields"),
    [("/admin/dang-vien/xem-truoc", {}), ("/admin/trac-nghiem/ngan-hang", {"bank": "Đợt 2"})],
)
async def test_an_upload_over_the_request_limit_gets_a_clear_page_and_writes_nothing(
    console: Console, path: str, fields: dict[str, str]
) -> None:
    await console.sign_in(ADMIN)
    csrf = await console.csrf()
    before = await _state(console)
    response = await console.client.post(path, data=_file(csrf, HUGE, "lon.csv", **fields))
    assert response.status == 413
    page = await response.text()
    assert "Tệp quá lớn" in page and "Không có gì được ghi" in page
    assert await _state(console) == before


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.4", "cau hoi.pdf", "chỉ nhận bảng tính .xlsx hoặc .csv"),
        (b"", "dot2.csv", "Hãy chọn tệp câu hỏi"),
        ("Câu hỏi".encode("utf-16"), "dot2.csv", "UTF-8"),
    ],
)
async def test_a_wrong_question_file_gets_a_clear_message_and_writes_nothing(
    console: Console, content: bytes, name: str, message: str
) -> None:
    await console.sign_in(TRAINER)
    csrf = await console.csrf()
    before = await _state(console)
    response = await console.client.post(
        "/admin/trac-nghiem/ngan-hang", data=_file(csrf, content, name, bank="Đợt 2")
    )
    assert response.status == 400
    assert message in await response.text()
    assert await _state(console) == before


# --- sign-in links used again or too late -----------------------------------------------


async def test_a_link_used_again_after_signing_out_gets_the_clear_page(console: Console) -> None:
    token = await console.link_token(SECRETARY)
    signed = await console.client.post(
        "/admin/dangnhap", data={"token": token}, allow_redirects=False
    )
    assert signed.status == 303
    await console.client.post("/admin/dangxuat", data={"csrf": await console.csrf()})
    before = await _state(console)
    again = await console.client.post(
        "/admin/dangnhap", data={"token": token}, allow_redirects=False
    )
    assert again.status == 400 and "Set-Cookie" not in again.headers
    page = await again.text()
    assert "Liên kết đăng nhập không dùng được" in page and "/dangnhap" in page
    assert await _state(console) == before  # no new sign-in in the audit log
    assert (await console.client.get("/admin/")).status == 401


async def test_an_expired_link_gets_the_clear_page_and_no_session(console: Console) -> None:
    token = await console.link_token(ADMIN)
    console.clock.advance(minutes=6)
    response = await console.client.post(
        "/admin/dangnhap", data={"token": token}, allow_redirects=False
    )
    assert response.status == 400 and "Set-Cookie" not in response.headers
    assert "đã quá 5 phút" in await response.text()
    assert (await console.client.get("/admin/")).status == 401
