"""How many members on the roster have linked a messenger account, per unit: each unit that
has members, and a total row for each unit above them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.messages import Channel
from bot.models import ChannelAccount, Member, Organisation
from bot.services.organisations import load_tree


@dataclass(frozen=True)
class AdoptionRow:
    unit_id: int
    unit_name: str
    depth: int  # 0 for the report's top unit(s)
    is_total: bool  # sums the rows of the units under it (and its own members)
    members: int  # active members on the roster
    telegram: int
    zalo: int
    linked: int  # on Telegram, Zalo or both
    # Linked, and never asked the handbook anything since (after the first-run tour): whom
    # a secretary may help in person.
    never_asked: int = 0

    @property
    def rate(self) -> float:
        """Linked members as a fraction of members, 0 to 1."""
        return self.linked / self.members if self.members else 0.0


def _asked(account: type[ChannelAccount]) -> ColumnElement[bool]:
    """The (outer-joined) account asked the handbook since it linked."""
    return and_(
        account.asked_at.isnot(None),
        or_(account.linked_at.is_(None), account.asked_at >= account.linked_at),
    )


class AdoptionService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def report(self, unit_id: int | None) -> list[AdoptionRow]:
        """Rows for the unit and the units under it (the whole tree for None), in outline
        order: a total row comes before the rows it sums."""
        tree = await load_tree(self._session)
        scope = tree.by_id[unit_id] if unit_id is not None else None
        telegram = aliased(ChannelAccount)
        zalo = aliased(ChannelAccount)
        # A member has at most one account per messenger, so the joins multiply nothing.
        query = (
            select(
                Member.organisation_id,
                func.count(Member.id),
                func.count(telegram.id),
                func.count(zalo.id),
                func.count(case((telegram.id.isnot(None) | zalo.id.isnot(None), 1))),
                func.count(
                    case(
                        (
                            (telegram.id.isnot(None) | zalo.id.isnot(None))
                            & ~_asked(telegram)
                            & ~_asked(zalo),
                            1,
                        )
                    )
                ),
            )
            .join(Organisation, Organisation.id == Member.organisation_id)
            .outerjoin(
                telegram,
                and_(telegram.member_id == Member.id, telegram.channel == Channel.TELEGRAM),
            )
            .outerjoin(zalo, and_(zalo.member_id == Member.id, zalo.channel == Channel.ZALO))
            .where(Member.active)
            .group_by(Member.organisation_id)
        )
        if scope is not None:
            query = query.where(Organisation.path.startswith(scope.path))

        totals: dict[int, list[int]] = {}
        for org_id, *counts in await self._session.execute(query):
            # Add the unit's own counts to it and to each unit above it, up to the scope.
            for ancestor in tree.by_id[org_id].path.strip("/").split("/"):
                total = totals.setdefault(int(ancestor), [0, 0, 0, 0, 0])
                for i, count in enumerate(counts):
                    total[i] += count

        units = [u for u in tree.subtree(unit_id) if u.id in totals]
        parents = {u.parent_id for u in units}
        top = scope.depth if scope is not None else 0
        return [
            AdoptionRow(u.id, u.name, u.depth - top, u.id in parents, *totals[u.id]) for u in units
        ]
