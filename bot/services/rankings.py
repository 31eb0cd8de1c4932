"""Unit rankings, per quiz and per month of daily questions: units by participation (the
share of their active members who took part), then by average score. Rankings are of units;
a member's name appears beside their unit only if they chose so (/tenxephang)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DailyQuestion, Member, Organisation
from bot.services.permissions import Scope


@dataclass(frozen=True)
class UnitRank:
    unit_name: str
    members: int
    took_part: int
    average: int | None  # percent, over those who took part
    # "Name (score%)" of members who took part and chose to be named.
    named: tuple[str, ...] = ()

    @property
    def participation(self) -> int:
        return round(100 * self.took_part / self.members) if self.members else 0


def ranked(units: Iterable[UnitRank]) -> list[UnitRank]:
    """Participation first, then the average (none last), then the name."""
    return sorted(units, key=lambda u: (-u.participation, -(u.average or -1), u.unit_name))


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


class RankingService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def set_named(self, member_id: int, named: bool) -> None:
        await self._session.execute(
            update(Member).where(Member.id == member_id).values(named_in_rankings=named)
        )

    async def named(self, member_id: int) -> bool:
        return bool(
            await self._session.scalar(
                select(Member.named_in_rankings).where(Member.id == member_id)
            )
        )

    async def named_members(self, member_ids: Iterable[int]) -> set[int]:
        ids = list(member_ids)
        if not ids:
            return set()
        rows = await self._session.scalars(
            select(Member.id).where(Member.id.in_(ids), Member.named_in_rankings.is_(True))
        )
        return set(rows)

    async def daily(self, month: date, scope: Scope) -> list[UnitRank]:
        """The month's daily questions (answered ones) in the units of the scope that have
        active members: who answered at least one, and the share answered right."""
        units = dict(
            (
                await self._session.execute(
                    select(Organisation.id, Organisation.name).where(scope.where(Organisation.path))
                )
            ).all()
        )
        members = dict(
            (
                await self._session.execute(
                    select(Member.organisation_id, func.count())
                    .where(Member.active.is_(True), Member.organisation_id.in_(units))
                    .group_by(Member.organisation_id)
                )
            ).all()
        )
        rows = await self._session.execute(
            select(
                DailyQuestion.organisation_id,
                DailyQuestion.member_id,
                Member.full_name,
                Member.named_in_rankings,
                func.count(),
                func.count().filter(DailyQuestion.correct.is_(True)),
            )
            .join(Member, Member.id == DailyQuestion.member_id)
            .where(
                DailyQuestion.day >= month,
                DailyQuestion.day < next_month(month),
                DailyQuestion.answered_at.is_not(None),
                DailyQuestion.organisation_id.in_(units),
            )
            .group_by(
                DailyQuestion.organisation_id,
                DailyQuestion.member_id,
                Member.full_name,
                Member.named_in_rankings,
            )
            .order_by(Member.full_name)
        )
        per_unit: dict[int, list[tuple[str, bool, int, int]]] = {}
        for unit, _, name, named, answered, right in rows:
            per_unit.setdefault(unit, []).append((name, bool(named), answered, right))
        result = []
        for unit, count in members.items():
            people = per_unit.get(unit, [])
            answered = sum(p[2] for p in people)
            right = sum(p[3] for p in people)
            result.append(
                UnitRank(
                    units[unit],
                    count,
                    len(people),
                    round(100 * right / answered) if answered else None,
                    tuple(f"{n} ({round(100 * r / a)}%)" for n, shown, a, r in people if shown),
                )
            )
        return ranked(result)
