"""Notices from secretaries (and admins) to their organisation, sent through the outbox;
progress and the final report go back to the sender."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Media, Reply
from bot.models import Broadcast, Member, Organisation, OutboxMessage
from bot.services.audit import AuditService
from bot.services.notices import BroadcastNotice, BroadcastProgress, BroadcastReport
from bot.services.outbox import OutboxService, Status, recipients
from bot.services.outbox_once import enqueue_account_once
from bot.services.permissions import PermissionService, Scope

# A notice with its header and signature fits in one Zalo message (2,000 characters), so a
# retry after a failure never repeats half of it.
MAX_NOTICE_CHARS = 1800


@dataclass(frozen=True)
class Audience:
    member_ids: list[int]
    linked: int

    @property
    def not_linked(self) -> int:
        return len(self.member_ids) - self.linked


@dataclass(frozen=True)
class Unreached:
    name: str
    unit: str
    status: Status


class BroadcastService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        audit: AuditService,
        clock: Callable[[], datetime],
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._audit = audit
        self._clock = clock

    async def members_under(self, unit_ids: Sequence[int]) -> list[int]:
        """Active members of the units and everything under them."""
        paths = await self._session.scalars(
            select(Organisation.path).where(Organisation.id.in_(unit_ids))
        )
        prefixes = [Organisation.path.startswith(path, autoescape=True) for path in paths]
        if not prefixes:
            return []
        rows = await self._session.scalars(
            select(Member.id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.active.is_(True), or_(*prefixes))
        )
        return sorted(set(rows))

    async def audience(self, unit_ids: Sequence[int]) -> Audience:
        members = await self.members_under(unit_ids)
        reachable = [r for r in await recipients(self._session, members) if r.account_id]
        return Audience(members, len(reachable))

    async def send(
        self,
        *,
        actor: str,
        body: str,
        unit_ids: Sequence[int],
        signature: str,
        sender_member_id: int | None = None,
        sender_account_id: int | None = None,
        media: Media | None = None,
        scope: Scope | None = None,
    ) -> tuple[int, dict[Status, int]]:
        """Creates the broadcast and its outbox rows in the caller's transaction. A member
        sends within their `scope` (PermissionDenied otherwise); an operator has none."""
        if scope is not None:
            await PermissionService(self._session).require(scope, unit_ids)
        now = self._clock()
        broadcast = Broadcast(
            actor=actor,
            sender_member_id=sender_member_id,
            text=body,
            unit_ids=list(unit_ids),
            created_at=now,
        )
        self._session.add(broadcast)
        await self._session.flush()
        if sender_account_id is not None:
            # Sent first (lowest id) and then edited as the notice goes out.
            broadcast.progress_row_id = await self._outbox.enqueue_account(
                sender_account_id, Reply("…"), kind="progress", now=now
            )
        counts = await self._outbox.enqueue_members(
            await self.members_under(unit_ids),
            BroadcastNotice(body, signature, media),
            kind="broadcast",
            now=now,
            broadcast_id=broadcast.id,
        )
        if broadcast.progress_row_id is not None:
            progress = await self._outbox.row(broadcast.progress_row_id)
            assert progress is not None
            shown = self._outbox.render(await self.progress(broadcast.id))
            progress.payload = {**progress.payload, "text": shown.text}
        await self._audit.record(
            actor,
            "broadcast.send",
            f"broadcast:{broadcast.id}",
            units=list(unit_ids),
            queued=counts[Status.PENDING],
            not_linked=counts[Status.SKIPPED],
        )
        return broadcast.id, counts

    async def unfinished(self, limit: int = 50) -> list[int]:
        """Broadcasts whose end is not recorded yet, oldest first."""
        rows = await self._session.scalars(
            select(Broadcast.id)
            .where(Broadcast.finished_at.is_(None))
            .order_by(Broadcast.id)
            .limit(limit)
        )
        return list(rows)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self._session.get(Broadcast, broadcast_id)

    async def progress(self, broadcast_id: int) -> BroadcastProgress:
        return BroadcastProgress(broadcast_id, await self._outbox.counts(broadcast_id))

    async def finish_if_done(self, broadcast_id: int) -> bool:
        """When no row is left to send: record the end and queue the report to the sender."""
        broadcast = await self.get(broadcast_id)
        if broadcast is None or broadcast.finished_at is not None:
            return False
        counts = await self._outbox.counts(broadcast_id)
        if counts[Status.PENDING] or counts[Status.SENDING]:
            return False
        broadcast.finished_at = self._clock()
        progress = (
            None
            if broadcast.progress_row_id is None
            else await self._outbox.row(broadcast.progress_row_id)
        )
        if progress is not None and progress.account_id is not None:
            # Keyed: two dispatchers settling the last rows at once queue one report.
            await enqueue_account_once(
                self._session,
                f"broadcast:{broadcast_id}:report",
                progress.account_id,
                self._outbox.render(BroadcastReport(broadcast_id, counts)),
                kind="report",
                now=self._clock(),
            )
        return True

    async def unreached(self, broadcast_id: int) -> list[Unreached]:
        rows = await self._session.execute(
            select(Member.full_name, Organisation.name, OutboxMessage.status)
            .join(Member, Member.id == OutboxMessage.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status != Status.SENT)
            .order_by(Organisation.name, Member.full_name)
        )
        return [Unreached(name, unit, Status(status)) for name, unit, status in rows]

    async def cancel(self, broadcast_id: int, *, actor: str) -> int:
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.status == Status.PENDING,
            )
            .values(status=Status.CANCELLED, error="cancelled")
        )
        count = result.rowcount or 0
        await self._audit.record(actor, "broadcast.cancel", f"broadcast:{broadcast_id}", rows=count)
        return count
