"""Finding members on the roster by name, within a scope, for the web console: who they
are, where, and on which messengers they can be reached (never phone or card number)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChannelAccount, Member, Organisation
from bot.services.handbook.normalize import fold
from bot.services.permissions import Scope

MAX_FOUND = 50


@dataclass(frozen=True)
class FoundMember:
    member_id: int
    full_name: str
    unit_name: str
    probationary: bool
    messengers: tuple[str, ...]


def _folded(text: str) -> str:
    return " ".join(fold(text).lower().split())


class DirectoryService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def search(self, scope: Scope, query: str, limit: int = MAX_FOUND) -> list[FoundMember]:
        """Active members in the scope whose name contains the words, with or without
        diacritics, in unit then name order. Names are folded in Python: SQLite and
        PostgreSQL fold Vietnamese differently, and a scope holds a few thousand members."""
        wanted = _folded(query)
        if not wanted or scope.empty:
            return []
        rows = await self._session.execute(
            select(Member.id, Member.full_name, Organisation.name, Member.probationary)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.active.is_(True), scope.where(Organisation.path))
            .order_by(Organisation.name, Member.full_name, Member.id)
        )
        found = [row for row in rows if wanted in _folded(row[1])][:limit]
        accounts: dict[int, list[str]] = {}
        if found:
            linked = await self._session.execute(
                select(ChannelAccount.member_id, ChannelAccount.channel)
                .where(ChannelAccount.member_id.in_([row[0] for row in found]))
                .order_by(ChannelAccount.channel)
            )
            for member_id, channel in linked:
                accounts.setdefault(member_id, []).append(channel)
        return [
            FoundMember(m, name, unit, probationary, tuple(accounts.get(m, ())))
            for m, name, unit, probationary in found
        ]
