"""Linking a messenger account to a roster member: consent, card number plus a verified phone
or a one-time activation code, the limits on failures, unlinking and erasure.

Three limits, because fresh accounts are free: per account (5 failures an hour lock it for an
hour), per card (5 failed phone checks an hour on one member's card lock linking by that card
for an hour, audited, and the unit's secretaries are told) and overall (20 failures in 10
minutes pause all linking until the window clears, audited). Entering a card number costs the
account an attempt and gets the same reply whether the card exists, is free or is linked: the
phone check that follows is what tells, and only to the phone's owner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.messages import Contact
from bot.models import (
    ChannelAccount,
    LinkFailure,
    Member,
    RoleGrant,
)
from bot.services.audit import AuditService
from bot.services.codes import CodeService
from bot.services.notices import LinkGuessing
from bot.services.outbox import OutboxService
from bot.services.permissions import Role
from bot.services.phones import normalise_phone
from bot.services.roster_file import canonical_card

# Bump when the consent text changes, so that what each member agreed to is known.
CONSENT_VERSION = "2026-11"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCK_DURATION = timedelta(hours=1)
MEMBER_MAX_FAILURES = 5
OVERALL_MAX_FAILURES = 20
OVERALL_WINDOW = timedelta(minutes=10)
_SECRETARIES = (Role.SECRETARY, Role.DEPUTY_SECRETARY)


class LinkResult(StrEnum):
    LINKED = "linked"
    # A card number was taken; whether it exists is not told (member_id stays server-side).
    CARD_TAKEN = "card_taken"
    ALREADY_LINKED = "already_linked"
    NOT_OWN_CONTACT = "not_own_contact"
    PHONE_MISMATCH = "phone_mismatch"
    BAD_CODE = "bad_code"
    LOCKED = "locked"


@dataclass(frozen=True)
class LinkAttempt:
    result: LinkResult
    member_id: int | None = None
    locked_until: datetime | None = None


def looks_like_code(text: str) -> bool:
    """Activation codes hold letters; card numbers are digits (with dots or spaces)."""
    return any(char.isalpha() for char in text)


def _mask(value: str | None) -> str | None:
    return None if not value else f"***{value[-4:]}"


class LinkingService:
    def __init__(
        self,
        session: AsyncSession,
        audit: AuditService,
        clock: Callable[[], datetime],
        codes: CodeService,
        outbox: OutboxService,
    ) -> None:
        self._session = session
        self._audit = audit
        self._clock = clock
        self._codes = codes
        self._outbox = outbox

    async def _account(self, account_id: int) -> ChannelAccount:
        account = await self._session.get(ChannelAccount, account_id)
        if account is None:
            raise LookupError(f"no account {account_id}")
        return account

    async def locked_until(self, account_id: int) -> datetime | None:
        """When this account may try again: its own lock, or linking paused for everyone."""
        account = await self._account(account_id)
        now = self._clock()
        until = account.link_locked_until
        own = until if until is not None and until > now else None
        paused = await self._window_full(None, OVERALL_MAX_FAILURES, OVERALL_WINDOW)
        return max(own, paused) if own and paused else own or paused

    async def _window_full(
        self, member_id: int | None, limit: int, window: timedelta
    ) -> datetime | None:
        """Until when `limit` failures (on this member's card, or overall) fill the window."""
        query = select(LinkFailure.at).where(LinkFailure.at > self._clock() - window)
        if member_id is not None:
            query = query.where(LinkFailure.member_id == member_id)
        oldest_counted = await self._session.scalar(
            query.order_by(LinkFailure.at.desc()).offset(limit - 1).limit(1)
        )
        return None if oldest_counted is None else oldest_counted + window

    async def failures(self, account_id: int) -> int:
        """Failed attempts in the current window."""
        account = await self._account(account_id)
        started = account.link_window_started_at
        if started is None or self._clock() - started > FAILURE_WINDOW:
            return 0
        return account.link_failures

    async def record_consent(self, account_id: int) -> None:
        account = await self._account(account_id)
        account.consent_version, account.consent_at = CONSENT_VERSION, self._clock()

    async def has_consent(self, account_id: int) -> bool:
        return (await self._account(account_id)).consent_at is not None

    async def check_card(self, account_id: int, card_text: str) -> LinkAttempt:
        """First step of linking by phone. Costs an attempt whatever the card: the reply
        must not tell a roster card from an unknown one."""
        account = await self._account(account_id)
        if (locked := await self.locked_until(account_id)) is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=locked)
        member_id = await self._session.scalar(
            select(Member.id).where(
                Member.card_number == canonical_card(card_text), Member.active.is_(True)
            )
        )
        if member_id is None:
            self._session.add(LinkFailure(at=self._clock()))
            await self._overall_limit()
        if (locked := await self._spend(account)) is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=locked)
        return LinkAttempt(LinkResult.CARD_TAKEN, member_id)

    async def link_by_contact(
        self, account_id: int, member_id: int | None, sender_id: str, contact: Contact
    ) -> LinkAttempt:
        """Telegram proves a shared contact is the sender's own when its user id matches."""
        account = await self._account(account_id)
        if (locked := await self.locked_until(account_id)) is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=locked)
        if contact.user_id != sender_id:
            return await self._fail(account, LinkResult.NOT_OWN_CONTACT, member_id)
        member = None if member_id is None else await self._session.get(Member, member_id)
        shared = normalise_phone(contact.phone_number)
        if member is None or shared is None or normalise_phone(member.phone or "") != shared:
            return await self._fail(account, LinkResult.PHONE_MISMATCH, member_id)
        # Only the card's owner gets here, so telling them of the lock reveals nothing.
        card_locked = await self._window_full(member.id, MEMBER_MAX_FAILURES, FAILURE_WINDOW)
        if card_locked is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=card_locked)
        return await self._link(account, member, "phone")

    async def link_by_code(self, account_id: int, code: str) -> LinkAttempt:
        account = await self._account(account_id)
        if (locked := await self.locked_until(account_id)) is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=locked)
        member_id = await self._codes.redeem(code, now=self._clock())
        member = None if member_id is None else await self._session.get(Member, member_id)
        if member is None or not member.active:
            return await self._fail(account, LinkResult.BAD_CODE, None)
        return await self._link(account, member, "code")

    async def _linked_elsewhere(self, member_id: int, account: ChannelAccount) -> bool:
        other = await self._session.scalar(
            select(ChannelAccount.id).where(
                ChannelAccount.member_id == member_id,
                ChannelAccount.channel == account.channel,
                ChannelAccount.id != account.id,
            )
        )
        return other is not None

    async def _link(self, account: ChannelAccount, member: Member, method: str) -> LinkAttempt:
        if await self._linked_elsewhere(member.id, account):
            return LinkAttempt(LinkResult.ALREADY_LINKED, member.id)
        account.member_id, account.linked_at = member.id, self._clock()
        account.link_failures, account.link_window_started_at = 0, None
        await self._audit.record(
            f"account:{account.id}", "account.link", f"member:{member.id}", method=method
        )
        return LinkAttempt(LinkResult.LINKED, member.id)

    async def _spend(self, account: ChannelAccount) -> datetime | None:
        """Counts an attempt against the account; the lock it reaches, if any."""
        now = self._clock()
        started = account.link_window_started_at
        if started is None or now - started > FAILURE_WINDOW:
            account.link_failures, account.link_window_started_at = 0, now
        account.link_failures += 1
        if account.link_failures < MAX_FAILURES:
            return None
        account.link_locked_until = now + LOCK_DURATION
        account.link_failures, account.link_window_started_at = 0, None
        await self._audit.record(
            f"account:{account.id}",
            "account.link_locked",
            None,
            minutes=LOCK_DURATION.seconds // 60,
        )
        return account.link_locked_until

    async def _fail(
        self, account: ChannelAccount, result: LinkResult, member_id: int | None
    ) -> LinkAttempt:
        self._session.add(LinkFailure(at=self._clock(), member_id=member_id))
        await self._session.flush()
        if member_id is not None:
            await self._card_guessed(member_id)
        await self._overall_limit()
        if (locked := await self._spend(account)) is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=locked)
        return LinkAttempt(result)

    async def _count(self, member_id: int | None, window: timedelta) -> int:
        query = select(func.count()).where(LinkFailure.at > self._clock() - window)
        if member_id is not None:
            query = query.where(LinkFailure.member_id == member_id)
        return await self._session.scalar(query.select_from(LinkFailure)) or 0

    async def _card_guessed(self, member_id: int) -> None:
        """At the failure that locks a card: an audit line and a word to the unit's
        secretaries, once per lock."""
        if await self._count(member_id, FAILURE_WINDOW) != MEMBER_MAX_FAILURES:
            return
        member = await self._session.scalar(
            select(Member).where(Member.id == member_id).options(joinedload(Member.organisation))
        )
        assert member is not None
        until = self._clock() + FAILURE_WINDOW
        await self._audit.record(
            "system", "link.card_locked", f"member:{member_id}", failures=MEMBER_MAX_FAILURES
        )
        secretaries = set(
            await self._session.scalars(
                select(RoleGrant.member_id).where(
                    RoleGrant.organisation_id == member.organisation_id,
                    RoleGrant.role.in_(_SECRETARIES),
                )
            )
        )
        notice = LinkGuessing(member.full_name, member.organisation.name, until)
        await self._outbox.enqueue_members(
            secretaries, notice, kind="link_alert", now=self._clock()
        )

    async def _overall_limit(self) -> None:
        if await self._count(None, OVERALL_WINDOW) == OVERALL_MAX_FAILURES:
            await self._audit.record(
                "system",
                "link.paused",
                None,
                failures=OVERALL_MAX_FAILURES,
                minutes=OVERALL_WINDOW.seconds // 60,
            )

    async def unlink(self, account_id: int, *, actor: str) -> bool:
        account = await self._account(account_id)
        if account.member_id is None:
            return False
        member_id = account.member_id
        account.member_id, account.linked_at = None, None
        await self._audit.record(actor, "account.unlink", f"member:{member_id}")
        return True

    async def member_by_card(self, card_text: str) -> Member | None:
        return await self._session.scalar(
            select(Member).where(Member.card_number == canonical_card(card_text))
        )

    async def unlink_member(self, member_id: int, *, actor: str) -> int:
        """A secretary frees a member's accounts (a lost phone, a new account); returns how
        many were unlinked."""
        accounts = (
            await self._session.scalars(
                select(ChannelAccount).where(ChannelAccount.member_id == member_id)
            )
        ).all()
        for account in accounts:
            account.member_id, account.linked_at = None, None
        if accounts:
            await self._audit.record(
                actor, "account.unlink", f"member:{member_id}", accounts=len(accounts)
            )
        return len(accounts)

    async def withdraw_consent(self, account_id: int) -> None:
        """Without consent nothing may be processed, so the account is unlinked too."""
        await self.unlink(account_id, actor=f"account:{account_id}")
        account = await self._account(account_id)
        account.consent_version, account.consent_at = None, None
        await self._audit.record(f"account:{account_id}", "consent.withdraw")
