"""Scheduled sends made idempotent by a unique key in the database, not by a prior read.

Every outbox row a scheduled send writes carries `idempotency_key`: the send's key (which
reminder, which quiz event, which nudge) and the recipient, e.g. `reminder:812/m4051`. The
column has a unique index and the rows go in with INSERT ... ON CONFLICT DO NOTHING (SQLite
and PostgreSQL alike), so the same send decided twice (two leaders overlapping in a
failover, a job retried after a crash, a catch-up run at start) queues each message once:
on PostgreSQL a second transaction inserting the same key waits for the first, then inserts
nothing. Rows without a key (answers, progress reports) are not affected: NULLs never clash.

The column and its unique constraint come with migration 0009 (deploy/notes/idempotency.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from bot.models import ChannelAccount, OutboxMessage
from bot.services.outbox import CHUNK, Status, recipients, to_payload

KEY_COLUMN = "idempotency_key"

_OUTBOX = OutboxMessage.__table__


def member_key(key: str, member_id: int) -> str:
    return f"{key}/m{member_id}"


def account_key(key: str, account_id: int) -> str:
    return f"{key}/a{account_id}"


@dataclass(frozen=True)
class Queued:
    """What one call inserted; rows already there from an earlier call are not counted."""

    pending: int = 0
    skipped: int = 0

    @property
    def inserted(self) -> int:
        return self.pending + self.skipped


def _insert(session: AsyncSession) -> Insert:
    dialect = session.bind.dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        make(_OUTBOX)
        .on_conflict_do_nothing(index_elements=[KEY_COLUMN])
        .returning(_OUTBOX.c.status)
    )


async def _insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> Queued:
    pending = skipped = 0
    for start in range(0, len(rows), CHUNK):
        result = await session.execute(_insert(session), rows[start : start + CHUNK])
        for (status,) in result:
            if status == Status.PENDING:
                pending += 1
            else:
                skipped += 1
    return Queued(pending, skipped)


def _row(
    key: str, kind: str, payload: dict[str, Any], now: datetime, **recipient: Any
) -> dict[str, Any]:
    reachable = recipient["account_id"] is not None
    return {
        KEY_COLUMN: key,
        "kind": kind,
        "payload": payload,
        "status": Status.PENDING if reachable else Status.SKIPPED,
        "error": None if reachable else "not linked",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "claimed_at": None,
        "sent_at": None,
        "message_id": None,
        **recipient,
    }


async def enqueue_members_once(
    session: AsyncSession,
    key: str,
    member_ids: Iterable[int],
    reply: Reply,
    *,
    kind: str,
    now: datetime,
    broadcast_id: int | None = None,
) -> Queued:
    """Like OutboxService.enqueue_members (one row per member, a skipped row for a member
    with no reachable account), each row keyed `key/m<member id>`; members queued under
    this key before are left alone. Returns what this call added."""
    payload = to_payload(reply)
    rows = [
        _row(
            member_key(key, r.member_id),
            kind,
            payload,
            now,
            broadcast_id=broadcast_id,
            member_id=r.member_id,
            account_id=r.account_id,
            channel=r.channel,
            chat_id=r.chat_id,
        )
        for r in await recipients(session, sorted(set(member_ids)))
    ]
    return await _insert_rows(session, rows)


async def enqueue_account_once(
    session: AsyncSession, key: str, account_id: int, reply: Reply, *, kind: str, now: datetime
) -> bool:
    """Like OutboxService.enqueue_account, keyed `key/a<account id>`; True if queued now,
    False if this key was queued before."""
    account = await session.get(ChannelAccount, account_id)
    if account is None:
        raise LookupError(f"no account {account_id}")
    row = _row(
        account_key(key, account.id),
        kind,
        to_payload(reply),
        now,
        broadcast_id=None,
        member_id=account.member_id,
        account_id=account.id,
        channel=account.channel,
        chat_id=account.chat_id,
    )
    return (await _insert_rows(session, [row])).inserted == 1


async def enqueue_each_once(
    session: AsyncSession,
    key: str,
    replies: dict[int, Reply],
    *,
    kind: str,
    now: datetime,
) -> Queued:
    """Like enqueue_members_once, with a message of its own for each member (a daily
    question differs from one member to the next)."""
    rows = [
        _row(
            member_key(key, r.member_id),
            kind,
            to_payload(replies[r.member_id]),
            now,
            broadcast_id=None,
            member_id=r.member_id,
            account_id=r.account_id,
            channel=r.channel,
            chat_id=r.chat_id,
        )
        for r in await recipients(session, sorted(replies))
    ]
    return await _insert_rows(session, rows)
