"""The outbox: one row per proactive message and recipient, written in the transaction that
decides to send it, then claimed and settled by the dispatcher (jobs/dispatcher.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Attachment, Button, Channel, Document, Media, Reply
from bot.models import ChannelAccount, Member, OutboxMessage
from bot.services.notices import Notice, Renderer, unrendered

CHUNK = 1000
# Messengers the bot can write to first. The console (demo members chatting in a terminal)
# is one, chosen only when the member has no account on another.
PROACTIVE_CHANNELS = (Channel.TELEGRAM, Channel.ZALO, Channel.CONSOLE)


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


# In the order reports list them.
FINAL = (Status.SENT, Status.FAILED, Status.BLOCKED, Status.SKIPPED, Status.CANCELLED)


def to_payload(reply: Reply) -> dict[str, Any]:
    """The reply as the renderer made it, whole: what the dispatcher sends is what a
    handler would have answered (button keys, a file, a contact request included)."""
    payload: dict[str, Any] = {
        "text": reply.text,
        "buttons": [
            [[b.label, b.data] if b.key is None else [b.label, b.data, b.key] for b in row]
            for row in reply.buttons
        ],
    }
    if reply.media is not None:
        media = reply.media
        payload["media"] = {"kind": media.kind, "file_id": media.file_id, "channel": media.channel}
    if reply.document is not None:
        payload["document"] = {
            "filename": reply.document.filename,
            "content": base64.b64encode(reply.document.content).decode(),
        }
    if reply.contact_request is not None:
        payload["contact_request"] = reply.contact_request
    if reply.clear_keyboard:
        payload["clear_keyboard"] = True
    return payload


def from_payload(payload: dict[str, Any]) -> Reply:
    rows = tuple(tuple(Button(*button) for button in row) for row in payload["buttons"])
    media, document = payload.get("media"), payload.get("document")
    return Reply(
        payload["text"],
        buttons=rows,
        media=None
        if media is None
        else Media(Attachment(media["kind"]), media["file_id"], Channel(media["channel"])),
        document=None
        if document is None
        else Document(document["filename"], base64.b64decode(document["content"])),
        contact_request=payload.get("contact_request"),
        clear_keyboard=payload.get("clear_keyboard", False),
    )


@dataclass(frozen=True)
class Recipient:
    member_id: int
    account_id: int | None
    channel: str | None
    chat_id: str | None


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int
    account_id: int | None
    broadcast_id: int | None


async def recipients(session: AsyncSession, member_ids: Sequence[int]) -> list[Recipient]:
    """Each active member's account for proactive messages: on the preferred messenger if
    linked there, else the one linked first; none if not linked or the bot is blocked."""
    found: list[Recipient] = []
    for start in range(0, len(member_ids), CHUNK):
        chunk = member_ids[start : start + CHUNK]
        preferred = dict(
            (
                await session.execute(
                    select(Member.id, Member.preferred_channel).where(
                        Member.id.in_(chunk), Member.active.is_(True)
                    )
                )
            ).all()
        )
        accounts = await session.execute(
            select(
                ChannelAccount.member_id,
                ChannelAccount.id,
                ChannelAccount.channel,
                ChannelAccount.chat_id,
            )
            .where(
                ChannelAccount.member_id.in_(chunk),
                ChannelAccount.blocked_at.is_(None),
                ChannelAccount.channel.in_(PROACTIVE_CHANNELS),
            )
            .order_by(
                ChannelAccount.channel == Channel.CONSOLE,
                ChannelAccount.linked_at,
                ChannelAccount.id,
            )
        )
        linked: dict[int, list[tuple[int, str, str]]] = {}
        for member_id, account_id, channel, chat_id in accounts:
            linked.setdefault(member_id, []).append((account_id, channel, chat_id))
        for member_id in chunk:
            if member_id not in preferred:
                continue
            options = linked.get(member_id, [])
            pick = next((o for o in options if o[1] == preferred[member_id]), None)
            pick = pick or (options[0] if options else (None, None, None))
            found.append(Recipient(member_id, *pick))
    return found


class OutboxService:
    def __init__(
        self, session: AsyncSession, render: Renderer = unrendered, timezone: ZoneInfo = UTC
    ) -> None:
        self._session = session
        self._render = render
        self._tz = timezone
        self.enqueued = False

    def render(self, message: Reply | Notice) -> Reply:
        """A notice worded by the conversations' renderer; a reply as it is."""
        return message if isinstance(message, Reply) else self._render(message, self._tz)

    async def enqueue_members(
        self,
        member_ids: Iterable[int],
        message: Reply | Notice,
        *,
        kind: str,
        now: datetime,
        broadcast_id: int | None = None,
    ) -> dict[Status, int]:
        """One row per member (deduplicated); members with no reachable account get a
        skipped row, so reports can name them. Returns the count per status."""
        payload = to_payload(self.render(message))
        rows = [
            {
                "kind": kind,
                "broadcast_id": broadcast_id,
                "member_id": r.member_id,
                "account_id": r.account_id,
                "channel": r.channel,
                "chat_id": r.chat_id,
                "payload": payload,
                "status": Status.PENDING if r.account_id else Status.SKIPPED,
                "error": None if r.account_id else "not linked",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for r in await recipients(self._session, sorted(set(member_ids)))
        ]
        for start in range(0, len(rows), CHUNK):
            await self._session.execute(insert(OutboxMessage), rows[start : start + CHUNK])
        self.enqueued = self.enqueued or any(r["status"] == Status.PENDING for r in rows)
        counts = {Status.PENDING: 0, Status.SKIPPED: 0}
        for row in rows:
            counts[row["status"]] += 1
        return counts

    async def enqueue_account(
        self, account_id: int, message: Reply | Notice, *, kind: str, now: datetime
    ) -> int:
        """A message to one account (a progress report to a sender, an answer)."""
        account = await self._session.get(ChannelAccount, account_id)
        if account is None:
            raise LookupError(f"no account {account_id}")
        row = OutboxMessage(
            kind=kind,
            member_id=account.member_id,
            account_id=account.id,
            channel=account.channel,
            chat_id=account.chat_id,
            payload=to_payload(self.render(message)),
            status=Status.PENDING,
            created_at=now,
            next_attempt_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        self.enqueued = True
        return row.id

    async def claim(self, channels: Sequence[str], now: datetime, limit: int) -> list[Claimed]:
        """Mark up to `limit` due rows as sending. On PostgreSQL the rows are picked with
        FOR UPDATE SKIP LOCKED so several dispatchers share the table."""
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == Status.PENDING,
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.channel.in_(channels),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        picked: Any = due.scalar_subquery()
        if self._session.bind.dialect.name == "postgresql":
            # Picked first, then updated: as a subquery of the UPDATE, PostgreSQL may run
            # the pick more than once, and with SKIP LOCKED each run finds other rows, so a
            # batch could take more than `limit`. The rows stay locked until the commit.
            # (SQLite keeps one statement: a read then a write in one transaction can fail
            # at once when another process wrote in between.)
            picked = list(await self._session.scalars(due.with_for_update(skip_locked=True)))
            if not picked:
                return []
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(picked))
            .values(status=Status.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .returning(
                OutboxMessage.id,
                OutboxMessage.channel,
                OutboxMessage.chat_id,
                OutboxMessage.payload,
                OutboxMessage.attempts,
                OutboxMessage.account_id,
                OutboxMessage.broadcast_id,
            )
        )
        return sorted((Claimed(*row) for row in result), key=lambda c: c.id)

    async def recover_stale(self, now: datetime, claim_timeout: timedelta) -> int:
        """Rows left in sending by a process that died go back to pending."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == Status.SENDING,
                OutboxMessage.claimed_at < now - claim_timeout,
            )
            .values(status=Status.PENDING)
        )
        return result.rowcount or 0

    async def settle(
        self,
        row_id: int,
        status: Status,
        *,
        now: datetime,
        message_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
        refund_attempt: bool = False,
    ) -> None:
        """Record a send's outcome; `retry_at` puts the row back in the queue."""
        values: dict[str, Any] = {"status": status, "error": error}
        if status is Status.SENT:
            values.update(sent_at=now, message_id=message_id)
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        if refund_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == Status.SENDING)
            .values(**values)
        )

    async def mark_blocked(self, account_id: int, now: datetime) -> None:
        """Stops every pending message to an account that blocked the bot."""
        await self._session.execute(
            update(ChannelAccount).where(ChannelAccount.id == account_id).values(blocked_at=now)
        )
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.account_id == account_id, OutboxMessage.status == Status.PENDING)
            .values(status=Status.BLOCKED, error="blocked")
        )

    async def counts(
        self, broadcast_id: int, channels: Sequence[str] | None = None
    ) -> dict[Status, int]:
        """Rows of the broadcast per status; only those on `channels` if given."""
        query = select(OutboxMessage.status, func.count()).where(
            OutboxMessage.broadcast_id == broadcast_id
        )
        if channels is not None:
            query = query.where(OutboxMessage.channel.in_(channels))
        rows = await self._session.execute(query.group_by(OutboxMessage.status))
        counts = dict.fromkeys(Status, 0)
        for status, count in rows:
            counts[Status(status)] = count
        return counts

    async def row(self, row_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, row_id)

    async def waiting(self, channels: Sequence[str], now: datetime) -> int:
        """Rows on these messengers due by `now` and not settled yet."""
        found = await self._session.scalar(
            select(func.count()).where(
                OutboxMessage.channel.in_(channels),
                OutboxMessage.status.in_((Status.PENDING, Status.SENDING)),
                OutboxMessage.next_attempt_at <= now,
            )
        )
        return found or 0
