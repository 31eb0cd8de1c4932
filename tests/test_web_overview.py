"""Tổng quan's quiz and meeting columns over HTTP, on the demo data: per unit of the scope,
turns taken and passed over the quizzes closed this year, and attendance at this year's
meetings; a total row sums the units under it; the xlsx has the same figures."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot.models import HandbookQuery
from bot.services import Services
from tests.web_harness import ADMIN, OFFICE, SECRETARY, SIBLING, SIBLING_SECRETARY, Console

pytestmark = pytest.mark.usefixtures("console")
_ROW = re.compile(
    r'<td class="depth-\d">(?P<unit>[^<]+)</td>.*?'
    r'<td class="quiz-took">(?P<took>[^<]*)</td>\s*'
    r'<td class="quiz-passed">(?P<passed>[^<]*)</td>\s*'
    r'<td class="attendance">(?P<attendance>[^<]*)</td>',
    re.DOTALL,
)


async def figures(console: Console) -> dict[str, tuple[str, str, str]]:
    """Each unit row of Tổng quan: (took, passed, attendance) as the page shows them."""
    response = await console.client.get("/admin/")
    assert response.status == 200
    body = (await response.text()).split("<tbody>")[1].split("</tbody>")[0]
    return {
        found["unit"]: (found["took"], found["passed"], found["attendance"])
        for found in _ROW.finditer(body)
    }


async def test_the_admin_sees_quiz_turns_passes_and_attendance_per_unit(console: Console) -> None:
    # The demo's closed quiz: 5 of the 6 members of two chi bộ took it, 3 passed; Chi bộ Văn
    # phòng's meetings this year were marked 9 times, 7 present (as on Lịch họp).
    await console.sign_in(ADMIN)
    assert await figures(console) == {
        "Đảng bộ tỉnh Demo": ("83% (5/6)", "60% (3/5)", "78% (7/9)"),
        "Đảng bộ Khối các cơ quan và doanh nghiệp": ("83% (5/6)", "60% (3/5)", "78% (7/9)"),
        SIBLING: ("100% (3/3)", "67% (2/3)", "—"),
        OFFICE: ("67% (2/3)", "50% (1/2)", "78% (7/9)"),
        "Đảng bộ xã Hòa An": ("—", "—", "—"),
        "Chi bộ thôn Tây": ("—", "—", "—"),
        "Chi bộ thôn Đông": ("—", "—", "—"),
    }
    # The province-wide quiz, still open, counts nowhere yet (5/6, not 5/18).
    page = await (await console.client.get("/admin/")).text()
    assert "các bài đã đóng trong năm 2026" in page


async def test_each_secretary_sees_only_their_own_chi_bos_figures(console: Console) -> None:
    await console.sign_in(SECRETARY)
    assert await figures(console) == {OFFICE: ("67% (2/3)", "50% (1/2)", "78% (7/9)")}
    console.client.session.cookie_jar.clear()
    await console.sign_in(SIBLING_SECRETARY)
    assert await figures(console) == {SIBLING: ("100% (3/3)", "67% (2/3)", "—")}


async def _close_due_quizzes(console: Console) -> None:
    async with console.database.session() as session, session.begin():
        quizzes = Services.for_session(session, console.shared).quizzes
        for due in await quizzes.due_events(console.clock()):
            await quizzes.run_due(due)


async def test_a_quiz_counts_once_it_has_closed_and_a_new_year_starts_afresh(
    console: Console,
) -> None:
    # The province-wide quiz closes unanswered: every member had one more turn to take.
    console.clock.advance(days=8)
    await _close_due_quizzes(console)
    await console.sign_in(ADMIN)
    shown = await figures(console)
    assert shown["Đảng bộ tỉnh Demo"][:2] == ("28% (5/18)", "60% (3/5)")
    assert shown[OFFICE][:2] == ("33% (2/6)", "50% (1/2)")
    assert shown["Chi bộ thôn Tây"] == ("0% (0/3)", "—", "—")

    console.clock.advance(days=40)  # January: nothing closed or held yet this year
    console.client.session.cookie_jar.clear()
    await console.sign_in(ADMIN)
    page = await (await console.client.get("/admin/")).text()
    assert "các bài đã đóng trong năm 2027" in page
    assert set((await figures(console)).values()) == {("—", "—", "—")}


async def test_the_xlsx_carries_the_quiz_and_attendance_columns(console: Console) -> None:
    await console.sign_in(SECRETARY)
    response = await console.client.get("/admin/tong-quan.xlsx")
    assert response.status == 200
    book = load_workbook(io.BytesIO(await response.read()))
    sheet = book.active
    assert sheet.title == "Tổng quan năm 2026"
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[7:] == (
        "Bài trắc nghiệm đã đóng",
        "Lượt làm bài",
        "Tỷ lệ làm bài",
        "Tỷ lệ đạt",
        "Buổi họp",
        "Tỷ lệ dự họp",
    )
    assert len(rows) == 1
    unit, members, *_adoption, quizzes, took, took_rate, pass_rate, held, attended = rows[0]
    assert (unit, members, quizzes, took) == (OFFICE, 3, 1, 2)
    assert (took_rate, pass_rate, attended) == (0.67, 0.5, 0.7778)
    assert held >= 1


async def test_a_units_blank_shares_are_blank_cells_in_the_xlsx(console: Console) -> None:
    await console.sign_in(ADMIN)
    response = await console.client.get("/admin/tong-quan.xlsx")
    rows = list(load_workbook(io.BytesIO(await response.read())).active.iter_rows(values_only=True))
    west = next(row for row in rows if row[0] == "Chi bộ thôn Tây")
    assert west[7:] == (0, 0, None, None, 0, None)


async def test_admins_see_this_weeks_handbook_questions_not_found(console: Console) -> None:
    # The demo's inbox question, asked yesterday, was not found in the handbook.
    now = console.clock()
    async with console.database.session() as session, session.begin():
        session.add(HandbookQuery(asked_at=now, question="Hỏi mới", answered=False, score=0.1))
        session.add(HandbookQuery(asked_at=now, question="Đã có", answered=True, score=0.9))
        old = now - timedelta(days=14)
        session.add(HandbookQuery(asked_at=old, question="Tuần trước", answered=False, score=0.1))
    await console.sign_in(ADMIN)
    page = await (await console.client.get("/admin/")).text()
    found = re.search(r'id="missed-week">(\d+)</span></a> câu hỏi không tìm thấy', page)
    assert found is not None and found.group(1) == "2"
    console.client.session.cookie_jar.clear()
    await console.sign_in(SECRETARY)  # kept without who asked: the deployment's, for admins
    assert 'id="missed-week"' not in await (await console.client.get("/admin/")).text()
