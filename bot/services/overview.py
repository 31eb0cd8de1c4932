"""Tổng quan's figures per unit: the adoption report's rows (members, linked accounts) with
each unit's quiz participation and pass rate over the quizzes closed this year, and its
meeting attendance this year. A total row sums the units under it, as adoption's do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.adoption import AdoptionRow, AdoptionService
from bot.services.meetings.attendance import AttendanceService, YearTally
from bot.services.organisations import load_tree
from bot.services.quizzes.report import QuizReports, QuizTally


@dataclass(frozen=True)
class OverviewRow:
    adoption: AdoptionRow
    quizzes: QuizTally
    meetings: YearTally


@dataclass(frozen=True)
class Overview:
    year: int
    rows: tuple[OverviewRow, ...]


class OverviewService:
    def __init__(
        self,
        session: AsyncSession,
        adoption: AdoptionService,
        quiz_reports: QuizReports,
        attendance: AttendanceService,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._adoption = adoption
        self._quiz_reports = quiz_reports
        self._attendance = attendance
        self._clock = clock
        self._tz = timezone

    async def report(self, roots: Sequence[int | None]) -> Overview:
        """Rows for each root's subtree (None: the whole tree), in outline order."""
        year = self._clock().astimezone(self._tz).year
        start, end = self._attendance.year_bounds(year)
        adoption = [row for root in roots for row in await self._adoption.report(root)]
        shown = {row.unit_id for row in adoption}
        quizzes = await self._quiz_reports.closed_by_unit(start, end)
        tree = await load_tree(self._session)
        quiz_totals: dict[int, QuizTally] = {}
        meeting_totals: dict[int, YearTally] = {}
        for unit_id in shown:
            own_meetings = YearTally.of(await self._attendance.year(unit_id, year))
            own_quizzes = quizzes.get(unit_id, QuizTally())
            # Into the unit's own row and each row above it.
            for ancestor in map(int, tree.by_id[unit_id].path.strip("/").split("/")):
                if ancestor in shown:
                    quiz_totals[ancestor] = quiz_totals.get(ancestor, QuizTally()) + own_quizzes
                    meeting_totals[ancestor] = (
                        meeting_totals.get(ancestor, YearTally()) + own_meetings
                    )
        rows = tuple(
            OverviewRow(row, quiz_totals[row.unit_id], meeting_totals[row.unit_id])
            for row in adoption
        )
        return Overview(year, rows)
