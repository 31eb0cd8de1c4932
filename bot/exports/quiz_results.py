"""A quiz's results for trainers: a workbook with one sheet per unit totals and one per
member, and a PNG chart of each unit's average score. Headers are in Vietnamese."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from bot.exports.spreadsheets import header_sheet
from bot.services.quizzes.service import MemberScore, UnitScore

UNIT_HEADERS = ("Đơn vị", "Đảng viên", "Đã làm xong", "Đạt", "Điểm trung bình (%)")
MEMBER_HEADERS = ("Họ và tên", "Đơn vị", "Điểm (%)", "Kết quả")


def _verdict(member: MemberScore) -> str:
    if member.score is None:
        return "chưa làm xong"
    return "đạt" if member.passed else "chưa đạt"


def write_quiz_results(
    path: Path, units: Sequence[UnitScore], members: Sequence[MemberScore]
) -> None:
    workbook = Workbook(write_only=True)
    totals = header_sheet(workbook, "Theo đơn vị", UNIT_HEADERS, (44, 12, 14, 10, 20))
    for unit in units:
        totals.append([unit.unit_name, unit.members, unit.finished, unit.passed, unit.average])
    people = header_sheet(workbook, "Theo đảng viên", MEMBER_HEADERS, (32, 44, 10, 16))
    for member in members:
        people.append([member.full_name, member.unit_name, member.score, _verdict(member)])
    workbook.save(path)


def write_quiz_chart(path: Path, units: Sequence[UnitScore], title: str) -> None:
    """A horizontal bar per unit: the average score of those who finished."""
    # matplotlib takes a second to import: only when a chart is asked for.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        figure = Figure(figsize=(10, 1.4 + 0.32 * max(len(units), 1)), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = range(len(units))
        values = [unit.average or 0 for unit in units]
        axes.barh(positions, values, color="#c8102e")
        axes.set_yticks(positions, [unit.unit_name for unit in units])
        axes.invert_yaxis()
        axes.set_xlim(0, 115)
        for position, unit in zip(positions, units, strict=True):
            label = "—" if unit.average is None else f"{unit.average}%"
            axes.text((unit.average or 0) + 1, position, label, va="center")
        axes.set_xlabel("Điểm trung bình (%)")
        axes.set_title(title)
        figure.savefig(path, format="png", dpi=120)
