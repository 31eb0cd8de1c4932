"""How many members on the roster have linked a messenger account, per unit: each unit that
has members, and a total row for each unit above them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, select
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
    linked: int  # on Telegram, Zalo or both (or the console, when it is counted)
    console: int = 0  # linked on the console, when it is counted
    # Linked on Telegram or Zalo since the first-run tour, and never asked anything since:
    # whom a secretary should help in person.
    idle_after_tour: int = 0

    @property
    def rate(self) -> float:
        """Linked members as a fraction of members, 0 to 1."""
        return self.linked / self.members if self.members else 0.0


class AdoptionService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def report(self, unit_id: int | None, *, console: bool = False) -> list[AdoptionRow]:
        """Rows for the unit and the units under it (the whole tree for None), in outline
        order: a total row comes before the rows it sums. Console accounts count only with
        `console`: they are demo members', reached only where the console is the bot's one
        messenger."""
        tree = await load_tree(self._session)
        scope = tree.by_id[unit_id] if unit_id is not None else None
        telegram = aliased(ChannelAccount)
        zalo = aliased(ChannelAccount)
        terminal = aliased(ChannelAccount)
        reached = telegram.id.isnot(None) | zalo.id.isnot(None)
        toured = telegram.tour_started_at.isnot(None) | zalo.tour_started_at.isnot(None)
        asked = telegram.asked_at.isnot(None) | zalo.asked_at.isnot(None)
        if console:
            reached = reached | terminal.id.isnot(None)
        # A member has at most one account per messenger, so the joins multiply nothing.
        query = (
            select(
                Member.organisation_id,
                func.count(Member.id),
                func.count(telegram.id),
                func.count(zalo.id),
                func.count(case((reached, 1))),
                func.count(terminal.id) if console else literal(0),
                func.count(case((toured & ~asked, 1))),
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
        if console:
            query = query.outerjoin(
                terminal,
                and_(terminal.member_id == Member.id, terminal.channel == Channel.CONSOLE),
            )
        if scope is not None:
            query = query.where(Organisation.path.startswith(scope.path))

        totals: dict[int, list[int]] = {}
        for org_id, *counts in await self._session.execute(query):
            # Add the unit's own counts to it and to each unit above it, up to the scope.
            for ancestor in tree.by_id[org_id].path.strip("/").split("/"):
                total = totals.setdefault(int(ancestor), [0, 0, 0, 0, 0, 0])
                for i, count in enumerate(counts):
                    total[i] += count

        units = [u for u in tree.subtree(unit_id) if u.id in totals]
        parents = {u.parent_id for u in units}
        top = scope.depth if scope is not None else 0
        return [
            AdoptionRow(u.id, u.name, u.depth - top, u.id in parents, *totals[u.id]) for u in units
        ]
