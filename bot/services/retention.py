"""Personal data kept no longer than needed: handbook question texts and outbox message
bodies older than SOTAY_RETENTION_DAYS are emptied (the rows stay, so the week-by-week
counts and a notice's report still add up), and linking failures go after a day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import HandbookQuery, LinkFailure, OutboxMessage
from bot.services.audit import AuditService
from bot.services.linking import FAILURES_KEPT
from bot.services.outbox import Status

ACTOR = "system:retention"
# Rows the dispatcher may still send keep their body.
_UNSENT = (Status.PENDING, Status.SENDING)


class RetentionService:
    def __init__(
        self, session: AsyncSession, audit: AuditService, clock: Callable[[], datetime]
    ) -> None:
        self._session = session
        self._audit = audit
        self._clock = clock

    async def purge(self, days: int) -> dict[str, int]:
        """Empties what is older than `days`; returns the rows touched per table, and writes
        an audit line when any were."""
        now = self._clock()
        cutoff = now - timedelta(days=days)
        queries = await self._session.execute(
            update(HandbookQuery)
            .where(HandbookQuery.asked_at < cutoff, HandbookQuery.question != "")
            .values(question="", asker_key=None)
        )
        outbox = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.created_at < cutoff,
                OutboxMessage.status.notin_(_UNSENT),
                # (JSON has no = on PostgreSQL; its text does.)
                cast(OutboxMessage.payload, String) != "{}",
            )
            .values(payload={}, error=None)
        )
        failures = await self._session.execute(
            delete(LinkFailure).where(LinkFailure.failed_at < now - FAILURES_KEPT)
        )
        counts = {
            "handbook_queries": queries.rowcount,
            "outbox": outbox.rowcount,
            "link_failures": failures.rowcount,
        }
        if any(counts.values()):
            await self._audit.record(ACTOR, "retention.purge", None, days=days, **counts)
        return counts
