"""PNG charts for reports, drawn off-screen (Agg) with DejaVu Sans, which matplotlib ships
and which has every Vietnamese letter."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.services.adoption import AdoptionRow

# More bars than this cannot be read: the chart shows a higher level of the tree instead.
MAX_BARS = 50
_LABEL_LENGTH = 45
_FONT = {"font.family": "DejaVu Sans", "font.size": 10}


def chart_rows(rows: Sequence[AdoptionRow]) -> list[AdoptionRow]:
    """The rows to draw: the units that hold members when there are few enough, else the
    deepest level of the tree that fits (at worst the top level)."""
    units = [row for row in rows if not row.is_total]
    if len(units) <= MAX_BARS:
        return units
    depths = sorted({row.depth for row in rows}, reverse=True)
    for depth in depths:
        level = [row for row in rows if row.depth == depth]
        if len(level) <= MAX_BARS:
            return level
    return [row for row in rows if row.depth == depths[-1]]


def _labels(rows: Sequence[AdoptionRow], bars: Sequence[AdoptionRow]) -> list[str]:
    """Unit names, with the parent's name where a name repeats ("Chi bộ thôn 1" is in many
    communes), shortened to fit."""
    parent: dict[int, str] = {}
    above: list[AdoptionRow] = []  # the rows above the current one in the outline
    for row in rows:
        del above[row.depth :]
        if above:
            parent[row.unit_id] = above[-1].unit_name
        above.append(row)
    names = [row.unit_name for row in bars]
    labels = []
    for row in bars:
        label = row.unit_name
        if names.count(label) > 1 and row.unit_id in parent:
            label = f"{label} ({parent[row.unit_id]})"
        labels.append(label if len(label) <= _LABEL_LENGTH else label[: _LABEL_LENGTH - 1] + "…")
    return labels


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%".replace(".", ",")  # Vietnamese decimal comma


def write_adoption_chart(path: Path, rows: Sequence[AdoptionRow], title: str) -> None:
    """A horizontal bar per unit: the share of its members who linked an account."""
    bars = chart_rows(rows)
    with matplotlib.rc_context(_FONT):
        figure = Figure(figsize=(10, 1.4 + 0.32 * max(len(bars), 1)), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = range(len(bars))
        axes.barh(positions, [row.rate * 100 for row in bars], color="#c8102e")
        axes.set_yticks(positions, _labels(rows, bars))
        axes.invert_yaxis()  # the first unit on top, as in the spreadsheet
        axes.set_xlim(0, 120)  # room for the figures after a full bar
        axes.set_xticks(range(0, 101, 20), [f"{p}%" for p in range(0, 101, 20)])
        axes.set_xlabel("Tỷ lệ đảng viên đã liên kết tài khoản")
        axes.set_title(title)
        for position, row in zip(positions, bars, strict=True):
            axes.annotate(
                f"{_percent(row.rate)} ({row.linked}/{row.members})",
                (row.rate * 100, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        axes.grid(axis="x", alpha=0.3)
        figure.savefig(path, format="png", dpi=120)
