"""Messenger accounts: find or create the account a message came from, and which of a
member's messengers receives the bot's notices and reminders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.messages import Channel
from bot.models import (
    ChannelAccount,
    CommitteeQuestion,
    ConversationState,
    Member,
    Organisation,
    OutboxMessage,
    utcnow,
)
from bot.services.audit import AuditService
from bot.services.conversations import FlowState

# How precisely the time an account last wrote is kept.
SEEN_RESOLUTION = timedelta(hours=1)

# The messengers proactive messages go through; a member may prefer one of them.
MESSENGERS = (Channel.TELEGRAM, Channel.ZALO)

# The account a message came from, its member and unit, and its conversation state: built
# once, so that its compiled form and cache key are too.
_TOUCH = (
    select(
        ChannelAccount.id,
        ChannelAccount.chat_id,
        ChannelAccount.last_seen_at,
        ChannelAccount.blocked_at,
        ChannelAccount.asked_at,
        ChannelAccount.member_id,
        Member.full_name,
        Member.organisation_id,
        Organisation.name.label("organisation_name"),
        ConversationState.account_id.label("state_account_id"),
        ConversationState.flow,
        ConversationState.step,
        ConversationState.data,
        ConversationState.choices,
    )
    .outerjoin(Member, Member.id == ChannelAccount.member_id)
    .outerjoin(Organisation, Organisation.id == Member.organisation_id)
    .outerjoin(ConversationState, ConversationState.account_id == ChannelAccount.id)
    .where(
        ChannelAccount.channel == bindparam("channel"),
        ChannelAccount.external_id == bindparam("external_id"),
    )
)


@dataclass(frozen=True)
class MemberView:
    id: int
    full_name: str
    organisation_id: int
    organisation_name: str


@dataclass(frozen=True)
class AccountView:
    id: int
    channel: Channel
    chat_id: str
    member: MemberView | None
    # Whether the linked account asked the handbook since it was linked (the adoption
    # report's "asked"): known here, the first question alone is written.
    asked: bool = False

    @property
    def linked(self) -> bool:
        return self.member is not None


def _member_view(member: Member) -> MemberView:
    return MemberView(
        id=member.id,
        full_name=member.full_name,
        organisation_id=member.organisation_id,
        organisation_name=member.organisation.name,
    )


def _view(account: ChannelAccount) -> AccountView:
    member = account.member
    return AccountView(
        id=account.id,
        channel=Channel(account.channel),
        chat_id=account.chat_id,
        member=None if member is None else _member_view(member),
        asked=account.asked_at is not None,
    )


class AccountService:
    def __init__(self, session: AsyncSession, audit: AuditService) -> None:
        self._session = session
        self._audit = audit

    async def member(self, member_id: int) -> MemberView:
        member = await self._session.scalar(
            select(Member).where(Member.id == member_id).options(joinedload(Member.organisation))
        )
        if member is None:
            raise LookupError(f"no member {member_id}")
        return _member_view(member)

    async def unit_name(self, unit_id: int) -> str:
        unit = await self._session.get(Organisation, unit_id)
        if unit is None:
            raise LookupError(f"no unit {unit_id}")
        return unit.name

    async def unit_names(self, unit_ids: Sequence[int]) -> list[str]:
        """The units' names in the order given, in one query: a menu names its units at once."""
        rows = await self._session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(set(unit_ids)))
        )
        names: dict[int, str] = dict(rows.all())
        missing = [unit for unit in unit_ids if unit not in names]
        if missing:
            raise LookupError(f"no units {missing}")
        return [names[unit] for unit in unit_ids]

    async def touch(self, channel: Channel, external_id: str, chat_id: str) -> AccountView:
        """The account for this sender, created on first contact; records when it was seen."""
        return (await self.touch_with_state(channel, external_id, chat_id))[0]

    async def touch_with_state(
        self, channel: Channel, external_id: str, chat_id: str
    ) -> tuple[AccountView, FlowState | None]:
        """touch(), and the account's conversation state read in the same statement. It is
        the first statement of every message: a prebuilt Core statement of plain columns,
        which costs far less to run than the ORM's entities with their joined member and
        unit (issue #16, throughput); what changes is written by UPDATE, rarely."""
        connection = await self._session.connection()
        found = (
            await connection.execute(_TOUCH, {"channel": channel, "external_id": external_id})
        ).first()
        if found is None:
            account = ChannelAccount(channel=channel, external_id=external_id, chat_id=chat_id)
            self._session.add(account)
            await self._session.flush()
            return AccountView(account.id, channel, chat_id, None), None
        # Only what changed is written: an unchanged row takes no write lock, which SQLite
        # holds to the end of the transaction.
        changes: dict[str, object] = {}
        now = utcnow()
        if now - found.last_seen_at >= SEEN_RESOLUTION:
            changes["last_seen_at"] = now
        if found.chat_id != chat_id:
            changes["chat_id"] = chat_id
        if found.blocked_at is not None:
            # Writing to the bot again means the member unblocked it.
            changes["blocked_at"] = None
        if changes:
            await connection.execute(
                update(ChannelAccount).where(ChannelAccount.id == found.id).values(**changes)
            )
        member = (
            None
            if found.member_id is None
            else MemberView(
                found.member_id, found.full_name, found.organisation_id, found.organisation_name
            )
        )
        view = AccountView(found.id, channel, chat_id, member, asked=found.asked_at is not None)
        if found.state_account_id is None:
            return view, None
        state = FlowState(
            found.flow, found.step, dict(found.data or {}), tuple(found.choices or ())
        )
        return view, state

    async def purge_unlinked(self, idle_before: datetime, abandoned_before: datetime) -> int:
        """Deletes accounts with nothing to keep: not linked nor consenting, no lock against
        guessing, nothing asked or sent, quiet since `idle_before`, and no flow under way
        (or one abandoned since `abandoned_before`). Every unknown sender gets an account
        when it writes (its choices and steps live there); this keeps strangers and fuzzers
        from piling them up."""
        account = ChannelAccount
        result = await self._session.execute(
            delete(account).where(
                account.member_id.is_(None),
                account.consent_at.is_(None),
                account.link_failures == 0,
                account.link_locked_until.is_(None),
                account.last_seen_at < idle_before,
                or_(
                    account.last_seen_at < abandoned_before,
                    ~exists().where(
                        ConversationState.account_id == account.id,
                        ConversationState.flow.is_not(None),
                    ),
                ),
                ~exists().where(CommitteeQuestion.account_id == account.id),
                ~exists().where(OutboxMessage.account_id == account.id),
            )
        )
        return result.rowcount or 0

    async def mark_asked(self, account: AccountView) -> None:
        """A linked account asked the handbook something (what it asked is not kept here).
        Written once: a statement per question would be two of a question's five (the
        account read again, then written; issue #16, throughput)."""
        if account.member is None or account.asked:
            return
        await self._session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id == account.id, ChannelAccount.asked_at.is_(None))
            .values(asked_at=utcnow())
        )

    async def linked_channels(self, member_id: int) -> list[str]:
        """The messengers the member has a linked account on, the one linked first first."""
        channels = await self._session.scalars(
            select(ChannelAccount.channel)
            .where(ChannelAccount.member_id == member_id, ChannelAccount.channel.in_(MESSENGERS))
            .order_by(ChannelAccount.linked_at, ChannelAccount.id)
        )
        return list(channels)

    async def notice_channel(self, member_id: int) -> str | None:
        """The messenger that receives the member's notices and reminders: the preferred one
        while an account is linked there, else the one linked first."""
        linked = await self.linked_channels(member_id)
        preferred = await self._session.scalar(
            select(Member.preferred_channel).where(Member.id == member_id)
        )
        if preferred in linked:
            return preferred
        return linked[0] if linked else None

    async def set_preferred_channel(self, member_id: int, channel: str) -> bool:
        """Sends the member's notices and reminders to `channel` from now on; False (and
        nothing changed) when the member has no account linked there."""
        if channel not in await self.linked_channels(member_id):
            return False
        await self._session.execute(
            update(Member).where(Member.id == member_id).values(preferred_channel=channel)
        )
        await self._audit.record(
            f"member:{member_id}", "channel.prefer", f"member:{member_id}", channel=channel
        )
        return True
