"""Week-by-week figures for the console's Tổng quan: members linking a messenger (within a
scope) and handbook questions asked and not found. Weeks start on Monday, local time.
Counted in Python: SQLite and PostgreSQL truncate dates differently, and a scope's
linked members number a few thousand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Channel
from bot.models import ChannelAccount, HandbookQuery, Member, Organisation
from bot.services.permissions import Scope


@dataclass(frozen=True)
class Week:
    starts: date  # its Monday
    count: int  # what happened that week
    total: int = 0  # for links: members linked by the week's end


def _monday(moment: datetime, timezone: ZoneInfo) -> date:
    day = moment.astimezone(timezone).date()
    return day - timedelta(days=day.weekday())


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _weeks(
    moments: Iterable[datetime], weeks: int, now: datetime, timezone: ZoneInfo
) -> list[Week]:
    last = _monday(now, timezone)
    starts = [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    counts = dict.fromkeys(starts, 0)
    before = 0
    for moment in moments:
        monday = _monday(_aware(moment), timezone)
        if monday < starts[0]:
            before += 1
        elif monday in counts:
            counts[monday] += 1
    result: list[Week] = []
    for start in starts:
        before += counts[start]
        result.append(Week(start, counts[start], before))
    return result


class TrendService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def linked_by_week(
        self, scope: Scope, weeks: int, now: datetime, timezone: ZoneInfo
    ) -> list[Week]:
        """Active members of the scope linking their first messenger (console accounts
        aside, as in the adoption report), per week of the last `weeks`, with the running
        total."""
        first_links = await self._session.scalars(
            select(func.min(ChannelAccount.linked_at))
            .join(Member, Member.id == ChannelAccount.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                Member.active,
                ChannelAccount.linked_at.isnot(None),
                ChannelAccount.channel != Channel.CONSOLE,
                scope.where(Organisation.path),
            )
            .group_by(ChannelAccount.member_id)
        )
        return _weeks(first_links, weeks, now, timezone)

    async def questions_by_week(
        self, weeks: int, now: datetime, timezone: ZoneInfo
    ) -> tuple[list[Week], list[Week]]:
        """Handbook questions asked, and those not found, per week. Questions are kept
        without who asked them, so these figures are the whole deployment's."""
        since = datetime.combine(
            _monday(now, timezone) - timedelta(weeks=weeks - 1), datetime.min.time(), timezone
        )
        rows = (
            await self._session.execute(
                select(HandbookQuery.asked_at, HandbookQuery.answered).where(
                    HandbookQuery.asked_at >= since.astimezone(UTC)
                )
            )
        ).all()
        asked = _weeks((at for at, _ in rows), weeks, now, timezone)
        missed = _weeks((at for at, answered in rows if not answered), weeks, now, timezone)
        return asked, missed
