"""Units ranked, never people: by participation (the share of a unit's members who took
part), then by average score; units level on both share a rank (1, 1, 3). Used for a quiz
(from its report) and for a month of daily questions. Names of members appear in no
ranking; whoever reads one sees only units within their own scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.services.quizzes.report import QuizReport, rate


@dataclass(frozen=True)
class Standing:
    """A unit's figures before ranking; percents, None where there is nothing to rate."""

    unit_id: int
    unit_name: str
    members: int
    took_part: int
    average: int | None

    @property
    def participation(self) -> int:
        return rate(self.took_part, self.members) or 0


@dataclass(frozen=True)
class Ranked:
    rank: int
    standing: Standing


def rank(standings: Sequence[Standing]) -> list[Ranked]:
    def key(s: Standing) -> tuple[int, int]:
        return (-s.participation, -(s.average if s.average is not None else -1))

    ordered = sorted(standings, key=lambda s: (*key(s), s.unit_name))
    ranked: list[Ranked] = []
    for place, standing in enumerate(ordered, start=1):
        tied = ranked and key(ranked[-1].standing) == key(standing)
        ranked.append(Ranked(ranked[-1].rank if tied else place, standing))
    return ranked


def quiz_ranking(report: QuizReport) -> list[Ranked]:
    """The quiz's units: those who started it, and the average of the best scores."""
    return rank(
        [
            Standing(u.unit_id, u.unit_name, u.totals.members, u.totals.started, u.totals.average)
            for u in report.units
        ]
    )
