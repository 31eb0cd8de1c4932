"""The append-only audit log of administrative acts. Callers pass ids, never phone or card
numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditEntry


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self, actor: str, action: str, target: str | None = None, **details: Any
    ) -> None:
        self._session.add(AuditEntry(actor=actor, action=action, target=target, details=details))

    async def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEntry]:
        """The newest entries first; `action` "org" also finds "org.merge", "org.move"."""
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if action:
            query = query.where(
                or_(
                    AuditEntry.action == action,
                    AuditEntry.action.startswith(f"{action}.", autoescape=True),
                )
            )
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        return list(await self._session.scalars(query.limit(limit)))
