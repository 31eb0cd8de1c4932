"""A quiz's results for trainers, from the one report (bot/services/quizzes/report.py): a
workbook with the totals, a sheet per unit, the questions most often missed and every answer,
and a PNG chart of each unit's average score. Headers are in Vietnamese.

"Theo đơn vị" and "Theo đảng viên" keep the columns of the first version of this report, so
that sheets people already built on it still read it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bot.exports.cells import text_cells
from bot.exports.spreadsheets import header_sheet
from bot.services.quizzes.report import MemberResult, Participation, QuizReport

TOTAL_HEADERS = (
    "Đơn vị",
    "Đảng viên",
    "Được mời (đã liên kết)",
    "Đã bắt đầu",
    "Làm hết bài",
    "Có điểm",
    "Đạt",
    "Tỷ lệ đạt (%)",
    "Điểm trung bình (%)",
)
UNIT_HEADERS = ("Đơn vị", "Đảng viên", "Đã làm xong", "Đạt", "Điểm trung bình (%)")
MEMBER_HEADERS = ("Họ và tên", "Đơn vị", "Điểm (%)", "Kết quả")
RANKING_HEADERS = (
    "Hạng",
    "Đơn vị",
    "Đảng viên",
    "Tham gia (%)",
    "Điểm trung bình (%)",
    "Đảng viên đồng ý nêu tên",
)
UNIT_MEMBER_HEADERS = (
    "Họ và tên",
    "Đã liên kết",
    "Số lần làm",
    "Làm hết bài",
    "Điểm cao nhất (%)",
    "Kết quả",
)
MISSED_HEADERS = ("Câu hỏi", "Chủ đề", "Lượt trả lời", "Lượt sai", "Tỷ lệ sai (%)")
ANSWER_HEADERS = (
    "Họ và tên",
    "Đơn vị",
    "Lần làm",
    "Câu số",
    "Câu hỏi",
    "Đã chọn",
    "Đáp án đúng",
    "Kết quả",
    "Thời điểm",
)
OVERALL = "Toàn bộ"
_BOLD = Font(bold=True)
# Excel refuses these in sheet names and takes at most 31 characters.
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_CHARS = 31
_LABEL_CHARS = 45


def _verdict(member: MemberResult) -> str:
    if member.score is None:
        return "chưa làm xong"
    return "đạt" if member.passed else "chưa đạt"


def _yes(value: bool) -> str:
    return "có" if value else "không"


def _sheet_name(name: str, used: set[str]) -> str:
    """The unit's name as a sheet name Excel takes, different from those already used."""
    base = _NOT_IN_SHEET_NAMES.sub(" ", name).strip() or "Đơn vị"
    candidate, number = base[:_SHEET_NAME_CHARS], 1
    while candidate.casefold() in used:
        number += 1
        suffix = f" ({number})"
        candidate = base[: _SHEET_NAME_CHARS - len(suffix)] + suffix
    used.add(candidate.casefold())
    return candidate


def _totals_row(name: str, totals: Participation) -> list[object]:
    return [
        name,
        totals.members,
        totals.invited,
        totals.started,
        totals.finished,
        totals.scored,
        totals.passed,
        totals.pass_rate,
        totals.average,
    ]


def write_quiz_results(target: Path | IO[bytes], report: QuizReport, timezone: ZoneInfo) -> None:
    workbook = Workbook(write_only=True)
    used = {
        "tổng hợp",
        "theo đơn vị",
        "xếp hạng",
        "theo đảng viên",
        "câu sai nhiều",
        "câu trả lời",
    }
    totals = header_sheet(workbook, "Tổng hợp", TOTAL_HEADERS, (44, 11, 14, 11, 11, 9, 8, 11, 14))
    for unit in report.units:
        totals.append(text_cells(totals, _totals_row(unit.unit_name, unit.totals)))
    overall = []
    for value in _totals_row(OVERALL, report.overall):
        cell = WriteOnlyCell(totals, value)
        cell.font = _BOLD
        overall.append(cell)
    totals.append(text_cells(totals, overall))

    by_unit = header_sheet(workbook, "Theo đơn vị", UNIT_HEADERS, (44, 12, 14, 10, 20))
    for unit in report.units:
        t = unit.totals
        by_unit.append(
            text_cells(by_unit, [unit.unit_name, t.members, t.finished, t.passed, t.average])
        )
    ranking = header_sheet(workbook, "Xếp hạng", RANKING_HEADERS, (8, 44, 12, 14, 16, 60))
    for place, unit in enumerate(report.ranking, start=1):
        ranking.append(
            text_cells(
                ranking,
                [
                    place,
                    unit.unit_name,
                    unit.members,
                    unit.participation,
                    unit.average,
                    ", ".join(unit.named),
                ],
            )
        )
    people = header_sheet(workbook, "Theo đảng viên", MEMBER_HEADERS, (32, 44, 10, 16))
    for member in report.members:
        people.append(
            text_cells(people, [member.full_name, member.unit_name, member.score, _verdict(member)])
        )

    for unit in report.units:
        sheet = header_sheet(
            workbook,
            _sheet_name(unit.unit_name, used),
            UNIT_MEMBER_HEADERS,
            (32, 12, 11, 12, 16, 16),
        )
        for m in unit.members:
            sheet.append(
                text_cells(
                    sheet,
                    [
                        m.full_name,
                        _yes(m.linked),
                        m.attempts,
                        _yes(m.finished),
                        m.score,
                        _verdict(m),
                    ],
                )
            )

    missed = header_sheet(workbook, "Câu sai nhiều", MISSED_HEADERS, (70, 28, 13, 10, 13))
    for question in report.missed:
        missed.append(
            text_cells(
                missed,
                [
                    question.text,
                    question.topic,
                    question.answered,
                    question.wrong,
                    question.percent_wrong,
                ],
            )
        )

    answers = header_sheet(
        workbook, "Câu trả lời", ANSWER_HEADERS, (28, 32, 9, 8, 60, 32, 32, 10, 17)
    )
    for answer in report.answers:
        at = WriteOnlyCell(answers, answer.answered_at.astimezone(timezone).replace(tzinfo=None))
        at.number_format = "dd/mm/yyyy hh:mm:ss"
        outcome = "hết giờ" if answer.chosen is None else ("đúng" if answer.correct else "sai")
        answers.append(
            text_cells(
                answers,
                [
                    answer.full_name,
                    answer.unit_name,
                    answer.attempt,
                    answer.number,
                    answer.question,
                    answer.chosen,
                    answer.right,
                    outcome,
                    at,
                ],
            )
        )
    workbook.save(target)


def _label(name: str) -> str:
    return name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"


def write_quiz_chart(target: Path | IO[bytes], report: QuizReport) -> None:
    """A horizontal bar per unit: the average of its members' best scores."""
    # matplotlib takes a second to import: only when a chart is asked for.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    units = [(unit.unit_name, unit.totals.average) for unit in report.units]
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        figure = Figure(figsize=(10, 1.4 + 0.32 * max(len(units), 1)), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = range(len(units))
        axes.barh(positions, [average or 0 for _, average in units], color="#c8102e")
        axes.set_yticks(positions, [_label(name) for name, _ in units])
        axes.invert_yaxis()
        axes.set_xlim(0, 115)
        for position, (_, average) in zip(positions, units, strict=True):
            label = "—" if average is None else f"{average}%"
            axes.text((average or 0) + 1, position, label, va="center")
        axes.axvline(report.pass_mark, color="#555555", linestyle="--", linewidth=1)
        axes.set_xlabel(f"Điểm trung bình (%); vạch đứt: điểm đạt {report.pass_mark}%")
        axes.set_title(f"Kết quả trắc nghiệm: {report.title}")
        figure.savefig(target, format="png", dpi=120)
