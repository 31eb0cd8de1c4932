"""The append-only audit log of administrative acts. Callers pass ids, never phone or card
numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditEntry


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self, actor: str, action: str, target: str | None = None, **details: Any
    ) -> None:
        self._session.add(AuditEntry(actor=actor, action=action, target=target, details=details))
