"""The intake table: every update a messenger delivers is stored here before it is
acknowledged, then claimed and handled (bot/channels/intake.py), so nothing acknowledged is
lost to a crash. Claims follow the outbox's (bot/services/outbox.py): FOR UPDATE SKIP LOCKED
on PostgreSQL so several processes share the table, one statement on SQLite; a claim is a
lease that its process renews while it works and that runs out when the process died."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from bot.models import IntakeUpdate, UTCDateTime


@dataclass(frozen=True)
class Arrival:
    """An update as it came: its key (Telegram's update_id, Zalo's message id), the chat
    it belongs to (its updates are handled one at a time, in order) and the body."""

    update_key: str
    chat_key: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class ClaimedUpdate:
    id: int
    raw: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Ticket:
    """The stored update being handled in this task: the conversation's transaction marks it
    done (`finish_in`), so that the update's effects and its being done commit together."""

    row_id: int


# Set by the intake processor around the handling of one update (a context variable rather
# than a parameter: the chat core's entry points and their stand-ins in tests keep their
# signatures, and an update handled outside the intake has no ticket).
current_ticket: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "intake_ticket", default=None
)


# The statements of every update, prebuilt so that their compiled forms and cache keys are
# too: building one costs more than running it (issue #16, throughput).
_WHEN = UTCDateTime()
_EARLIER = aliased(IntakeUpdate)
# Up to `limit` updates, each the oldest not done of its chat and not leased by a live
# claim, after an update of its chat done and no longer leased.
_DUE = (
    select(IntakeUpdate.id)
    .where(
        IntakeUpdate.messenger == bindparam("of_messenger"),
        IntakeUpdate.done_at.is_(None),
        or_(
            IntakeUpdate.lease_until.is_(None),
            IntakeUpdate.lease_until < bindparam("now", type_=_WHEN),
        ),
        ~exists().where(
            and_(
                _EARLIER.messenger == IntakeUpdate.messenger,
                _EARLIER.chat_key == IntakeUpdate.chat_key,
                or_(_EARLIER.done_at.is_(None), _EARLIER.lease_until >= bindparam("now")),
                _EARLIER.id < IntakeUpdate.id,
            )
        ),
    )
    .order_by(IntakeUpdate.id)
    .limit(bindparam("limit"))
)
_LEASE = {
    "lease_until": bindparam("until", type_=_WHEN),
    "attempts": IntakeUpdate.attempts + 1,
}
_LEASED = (IntakeUpdate.id, IntakeUpdate.raw, IntakeUpdate.attempts)
# SQLite runs one transaction at a time: picked and leased in one statement.
_CLAIM_DUE = (
    update(IntakeUpdate)
    .where(IntakeUpdate.id.in_(_DUE.scalar_subquery()))
    .values(_LEASE)
    .returning(*_LEASED)
)
# PostgreSQL: picked, skipping those another process is claiming, then leased, as the
# outbox claims (see OutboxService.claim).
_PICK_DUE = _DUE.with_for_update(of=IntakeUpdate, skip_locked=True)
_CLAIM_PICKED = (
    update(IntakeUpdate)
    .where(IntakeUpdate.id.in_(bindparam("ids", expanding=True)))
    .values(_LEASE)
    .returning(*_LEASED)
)
_SETTLE = (
    update(IntakeUpdate)
    .where(IntakeUpdate.id.in_(bindparam("ids", expanding=True)))
    .values(
        done_at=func.coalesce(IntakeUpdate.done_at, bindparam("now", type_=_WHEN)),
        lease_until=None,
    )
)
_FINISH = (
    update(IntakeUpdate)
    .where(IntakeUpdate.id == bindparam("row"))
    .values(done_at=bindparam("now", type_=_WHEN))
)
_STORE = {
    dialect: insert(IntakeUpdate)
    .on_conflict_do_nothing(index_elements=["messenger", "update_key"])
    .returning(IntakeUpdate.id)
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


class IntakeService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _connection(self) -> AsyncConnection:
        return await self._session.connection()

    async def store(self, messenger: str, arrivals: Sequence[Arrival], now: datetime) -> int:
        """Stores the updates not stored before; returns how many were new."""
        if not arrivals:
            return 0
        connection = await self._connection()
        result = await connection.execute(
            _STORE[connection.dialect.name],
            [
                {
                    "messenger": messenger,
                    "update_key": a.update_key,
                    "chat_key": a.chat_key,
                    "raw": a.raw,
                    "received_at": now,
                    "attempts": 0,
                }
                for a in arrivals
            ],
        )
        return len(result.all())

    async def claim(
        self, messenger: str, now: datetime, limit: int, lease: timedelta
    ) -> list[ClaimedUpdate]:
        """Leases up to `limit` updates, each the oldest not done of its chat and not leased
        by a live claim, after an update of its chat done and no longer leased: a chat's
        next update waits until the one before it is handled and its replies sent, so a chat
        is never handled twice at once and keeps its order, in any number of processes."""
        connection = await self._connection()
        due = {"of_messenger": messenger, "now": now, "limit": limit, "until": now + lease}
        if connection.dialect.name == "postgresql":
            picked = list(await connection.scalars(_PICK_DUE, due))
            if not picked:
                return []
            result = await connection.execute(_CLAIM_PICKED, {**due, "ids": picked})
        else:
            result = await connection.execute(_CLAIM_DUE, due)
        return sorted((ClaimedUpdate(*row) for row in result), key=lambda c: c.id)

    async def renew(self, row_ids: Sequence[int], until: datetime) -> None:
        """Extends the leases of updates still being handled or settled. Not one settled
        meanwhile: a lease renewed after its settle would hold its chat until it ran out."""
        if row_ids:
            await self._session.execute(
                update(IntakeUpdate)
                .where(IntakeUpdate.id.in_(row_ids), IntakeUpdate.lease_until.is_not(None))
                .values(lease_until=until)
            )

    async def release(self, messenger: str) -> int:
        """Ends every lease of the messenger: for a process that is the only one (SQLite),
        at start, the leases it held before a crash."""
        result = await self._session.execute(
            update(IntakeUpdate)
            .where(IntakeUpdate.messenger == messenger, IntakeUpdate.lease_until.is_not(None))
            .values(lease_until=None)
        )
        return result.rowcount or 0

    async def settle(self, row_ids: Sequence[int], now: datetime) -> None:
        """Done, and their replies sent (or given up): the chats' next updates may go."""
        connection = await self._connection()
        await connection.execute(_SETTLE, {"ids": list(row_ids), "now": now})

    async def finish_in(self, now: datetime) -> None:
        """Marks the update of this task, if any, done in the session's transaction; its
        lease holds its chat until the replies are sent (`settle`)."""
        ticket = current_ticket.get()
        if ticket is not None:
            connection = await self._connection()
            await connection.execute(_FINISH, {"row": ticket.row_id, "now": now})

    async def waiting(self, messenger: str) -> int:
        """Updates stored and not done yet."""
        found = await self._session.scalar(
            select(func.count()).where(
                IntakeUpdate.messenger == messenger, IntakeUpdate.done_at.is_(None)
            )
        )
        return found or 0

    async def purge_done(self, before: datetime) -> int:
        """Deletes updates handled before `before`: they are kept a few days only to know a
        late redelivery for what it is."""
        result = await self._session.execute(
            delete(IntakeUpdate).where(IntakeUpdate.done_at < before)
        )
        return result.rowcount or 0
