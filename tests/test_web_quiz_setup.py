"""Trắc nghiệm → Ngân hàng câu hỏi and Lên lịch: a trainer uploads a question sheet (checked
as `sotay quiz import` checks it) and schedules a quiz for units of their scope; others are
refused and nothing is saved."""

from __future__ import annotations

from datetime import UTC, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.models import AuditEntry, Member, Quiz, QuizQuestionRow, QuizTarget
from bot.services.permissions import Role
from bot.services.roles import RoleService
from tests.web_harness import OFFICE, SECRETARY, SIBLING, SIBLING_SECRETARY, TRAINER, Console

pytestmark = pytest.mark.usefixtures("console")
HEADER = "Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề"
GOOD = [
    HEADER,
    "Đảng viên dự bị có quyền biểu quyết không?,Có,Không,,,B,Điều 5.,Quyền",
    "Chi bộ họp thường kỳ mấy lần một tháng?,Một,Hai,,,A,Quy định.,Sinh hoạt",
]


def sheet(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def _upload(
    console: Console, bank: str, content: bytes, name: str = "dot2.csv"
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf", await console.csrf("/admin/"))
    form.add_field("bank", bank)
    form.add_field("file", content, filename=name, content_type="text/csv")
    return await console.client.post("/admin/trac-nghiem/ngan-hang", data=form)


async def _bank_rows(console: Console, bank: str) -> int:
    async with console.database.session() as session:
        query = select(func.count()).where(QuizQuestionRow.bank_id == bank)
        return await session.scalar(query) or 0


async def test_a_trainer_uploads_a_question_bank(console: Console) -> None:
    await console.sign_in(TRAINER)
    page = await (await console.client.get("/admin/trac-nghiem/ngan-hang")).text()
    assert "Tải lên ngân hàng câu hỏi" in page
    response = await _upload(console, "Đợt 2", sheet(GOOD))
    page = await response.text()
    assert response.status == 200, page
    assert "Đã lưu ngân hàng «dot-2»: 2 câu (2 câu mới, 0 cập nhật)." in page
    assert "dot-2" in page.split('id="banks"')[1]
    assert await _bank_rows(console, "dot-2") == 2
    async with console.database.session() as session:
        acts = set(await session.scalars(select(AuditEntry.action)))
    assert "quiz.import" in acts


async def test_bad_rows_are_listed_by_line_and_nothing_is_saved(console: Console) -> None:
    await console.sign_in(TRAINER)
    lines = [*GOOD, ",Có,Không,,,A,Giải thích.,Chủ đề", "Câu thiếu đáp án?,Có,Không,,,,G.,C"]
    response = await _upload(console, "Đợt 2", sheet(lines))
    page = await response.text()
    assert response.status == 400
    assert "Dòng 4: thiếu câu hỏi" in page and "Dòng 5: thiếu đáp án" in page
    assert await _bank_rows(console, "dot-2") == 0


@pytest.mark.parametrize(
    ("bank", "content", "name", "message"),
    [
        ("Đợt 2", b"not a workbook", "dot2.xlsx", "như một bảng tính Excel"),
        ("Đợt 2", sheet(["Câu hỏi,A,B"]), "dot2.csv", "thiếu cột «C», «D»"),
        ("Đợt 2", b"x" * (800 * 1024), "dot2.csv", "Tệp quá lớn"),
        ("", sheet(GOOD), "dot2.csv", "Hãy đặt tên ngân hàng"),
    ],
)
async def test_a_bad_sheet_gets_a_vietnamese_message(
    console: Console, bank: str, content: bytes, name: str, message: str
) -> None:
    await console.sign_in(TRAINER)
    response = await _upload(console, bank, content, name)
    assert response.status in (400, 413)
    assert message in await response.text()
    assert await _bank_rows(console, "dot-2") == 0


async def test_a_secretary_without_a_trainer_role_may_not_upload(console: Console) -> None:
    await console.sign_in(SECRETARY)
    assert (await console.client.get("/admin/trac-nghiem/ngan-hang")).status == 403
    assert (await _upload(console, "Đợt 2", sheet(GOOD))).status == 403
    assert await _bank_rows(console, "dot-2") == 0


# --- Lên lịch ---------------------------------------------------------------------------


def _when(console: Console, days: int) -> str:
    moment = console.clock() + timedelta(days=days)
    return moment.astimezone(console.shared.settings.timezone).strftime("%Y-%m-%dT%H:%M")


async def _schedule_form(console: Console, units: list[int], **changes: str) -> list:
    form = [
        ("csrf", await console.csrf("/admin/")),
        ("title", "Kiểm tra điều lệ"),
        ("bank", "kien-thuc-co-ban"),
        ("questions", "5"),
        ("pass_mark", "80"),
        ("attempts", "2"),
        ("seconds", ""),
        ("opens", _when(console, 1)),
        ("closes", _when(console, 8)),
    ]
    form = [(k, changes.get(k, v)) for k, v in form]
    return form + [("unit", str(unit)) for unit in units]


async def _quizzes(console: Console) -> list[tuple[str, list[int]]]:
    async with console.database.session() as session:
        quizzes = list(await session.scalars(select(Quiz).where(Quiz.title == "Kiểm tra điều lệ")))
        return [
            (
                quiz.created_by,
                list(
                    await session.scalars(
                        select(QuizTarget.organisation_id).where(QuizTarget.quiz_id == quiz.id)
                    )
                ),
            )
            for quiz in quizzes
        ]


async def test_a_trainer_schedules_a_quiz_for_chosen_units(console: Console) -> None:
    await console.sign_in(TRAINER)
    page = await (await console.client.get("/admin/trac-nghiem/len-lich")).text()
    assert OFFICE in page and SIBLING in page and "kien-thuc-co-ban" in page
    office = await console.unit(OFFICE)
    response = await console.client.post(
        "/admin/trac-nghiem/len-lich",
        data=await _schedule_form(console, [office]),
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    quiz_page = await (await console.client.get(response.headers["Location"])).text()
    assert "Kiểm tra điều lệ" in quiz_page and "Chưa mở" in quiz_page
    ((created_by, targets),) = await _quizzes(console)
    assert created_by.startswith("member:") and targets == [office]
    async with console.database.session() as session:
        quiz = await session.scalar(select(Quiz).where(Quiz.title == "Kiểm tra điều lệ"))
    assert quiz is not None
    assert (quiz.question_count, quiz.pass_mark, quiz.attempts_allowed) == (5, 80, 2)


async def test_the_form_offers_what_taoquiz_offers(console: Console) -> None:
    await console.sign_in(TRAINER)
    page = await (await console.client.get("/admin/trac-nghiem/len-lich")).text()
    topics = page.split('id="topics"')[1].split("</fieldset>")[0]
    assert "Đảng phí (9 câu)" in topics and "Kết nạp đảng viên (15 câu)" in topics
    assert 'name="seconds"' in page and 'placeholder="không giới hạn"' in page
    options = page.split('id="options"')[1].split("</fieldset>")[0]
    # Ticked as /taoquiz starts them.
    for name in ("shuffle_questions", "shuffle_choices", "explanations"):
        assert f'name="{name}" checked' in options
    assert "Để trống «Mở lúc» là mở ngay khi lưu" in page


async def _scheduled(console: Console) -> Quiz:
    async with console.database.session() as session:
        quiz = await session.scalar(select(Quiz).where(Quiz.title == "Kiểm tra điều lệ"))
    assert quiz is not None
    return quiz


async def test_topics_time_limit_and_how_it_is_taken_are_saved(console: Console) -> None:
    await console.sign_in(TRAINER)
    form = await _schedule_form(console, [await console.unit(OFFICE)], seconds="60")
    form += [("topic", "Đảng phí"), ("topic", "Đảng viên dự bị"), ("shuffle_questions", "on")]
    response = await console.client.post(
        "/admin/trac-nghiem/len-lich", data=form, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    quiz = await _scheduled(console)
    assert sorted(quiz.topics) == ["Đảng phí", "Đảng viên dự bị"]
    assert quiz.seconds_per_question == 60
    assert quiz.shuffle_questions and not quiz.shuffle_choices and not quiz.show_explanations


async def test_a_blank_opening_opens_the_quiz_at_once_without_a_time_limit(
    console: Console,
) -> None:
    await console.sign_in(TRAINER)
    form = await _schedule_form(console, [await console.unit(OFFICE)], opens="")
    form += [("shuffle_questions", "on"), ("shuffle_choices", "on"), ("explanations", "on")]
    response = await console.client.post(
        "/admin/trac-nghiem/len-lich", data=form, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    quiz = await _scheduled(console)
    assert quiz.opens_at.astimezone(UTC) == console.clock().astimezone(UTC)
    assert quiz.seconds_per_question is None and quiz.topics == []
    assert quiz.shuffle_questions and quiz.shuffle_choices and quiz.show_explanations


async def test_a_trainer_of_one_chi_bo_may_not_schedule_for_another(console: Console) -> None:
    sibling = await console.unit(SIBLING)
    async with console.database.session() as session, session.begin():
        member = await session.scalar(
            select(Member.id).where(Member.card_number == SIBLING_SECRETARY)
        )
        await RoleService(session).grant(member, Role.TRAINER, sibling, actor="test")
    await console.sign_in(SIBLING_SECRETARY)
    page = await (await console.client.get("/admin/trac-nghiem/len-lich")).text()
    assert SIBLING in page and OFFICE not in page.split("<main>")[1]
    office = await console.unit(OFFICE)
    for units in ([office], [sibling, office], ["abc"]):
        response = await console.client.post(
            "/admin/trac-nghiem/len-lich", data=await _schedule_form(console, units)
        )
        assert response.status == 403, units
    assert await _quizzes(console) == []


async def test_a_secretary_may_not_schedule(console: Console) -> None:
    await console.sign_in(SECRETARY)
    assert (await console.client.get("/admin/trac-nghiem/len-lich")).status == 403
    office = await console.unit(OFFICE)
    response = await console.client.post(
        "/admin/trac-nghiem/len-lich", data=await _schedule_form(console, [office])
    )
    assert response.status == 403
    assert await _quizzes(console) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": " "}, "Hãy đặt tên bài"),
        ({"questions": "0"}, "«Số câu mỗi lượt» cần một số từ 1 đến 100"),
        ({"pass_mark": "150"}, "«Điểm đạt (%)» cần một số từ 0 đến 100"),
        ({"opens": "ngày mai"}, "«Mở lúc» cần ngày và giờ"),
        ({"closes": "2020-01-01T08:00"}, "Giờ đóng phải sau giờ mở"),
        ({"bank": "khong-co"}, "Hãy chọn ít nhất một ngân hàng"),
        ({"questions": "100"}, "chỉ có"),
        ({"seconds": "5"}, "«Thời gian mỗi câu (giây)» cần một số từ 10 đến 600"),
        ({"seconds": "một phút"}, "«Thời gian mỗi câu (giây)» cần một số từ 10 đến 600"),
        ({"topic": "Không có chủ đề này"}, "Chủ đề «Không có chủ đề này» không có trong"),
        (
            {"topic": "Những điều đảng viên không được làm"},
            "Các ngân hàng và chủ đề đã chọn chỉ có 2 câu, ít hơn 5 câu mỗi lượt",
        ),
    ],
)
async def test_a_wrong_schedule_gets_a_clear_message(
    console: Console, changes: dict[str, str], message: str
) -> None:
    await console.sign_in(TRAINER)
    office = await console.unit(OFFICE)
    form = await _schedule_form(console, [office], **changes)
    if "topic" in changes:
        form.append(("topic", changes["topic"]))
    response = await console.client.post("/admin/trac-nghiem/len-lich", data=form)
    assert response.status == 400
    page = await response.text()
    assert message in page and "Chưa có gì được lưu" in page
    assert await _quizzes(console) == []


# --- Live progress --------------------------------------------------------------------------


async def test_an_open_quizs_page_updates_itself_without_filling_the_audit_log(
    console: Console,
) -> None:
    await console.sign_in(TRAINER)
    async with console.database.session() as session:
        open_quiz = await session.scalar(
            select(Quiz.id).where(Quiz.title == "Tìm hiểu Điều lệ Đảng")
        )
        closed = await session.scalar(select(Quiz.id).where(Quiz.title == "Ôn tập về đảng phí"))
    page = await (await console.client.get(f"/admin/trac-nghiem/{open_quiz}")).text()
    refresh = f'content="30; url=/admin/trac-nghiem/{open_quiz}?tu-cap-nhat=1"'
    assert refresh in page and "tự cập nhật mỗi 30 giây" in page
    again = await console.client.get(f"/admin/trac-nghiem/{open_quiz}?tu-cap-nhat=1")
    assert again.status == 200 and refresh in await again.text()
    closed_page = await (await console.client.get(f"/admin/trac-nghiem/{closed}")).text()
    assert 'http-equiv="refresh"' not in closed_page
    async with console.database.session() as session:
        readings = list(
            await session.scalars(
                select(AuditEntry.target).where(AuditEntry.action == "quiz.report")
            )
        )
    assert sorted(readings) == sorted([f"quiz:{open_quiz}", f"quiz:{closed}"])
