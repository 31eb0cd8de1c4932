"""Linking a messenger account to a roster member: consent, card number plus a verified phone
or a one-time activation code, the limits on failures, unlinking and erasure.

Failures are limited three ways: per messenger account (MAX_FAILURES an hour, then the
account is locked), per card number typed (CARD_MAX_FAILURES an hour across all accounts,
then the card is locked and its unit's secretaries told), and overall (OVERALL_MAX_FAILURES
in OVERALL_WINDOW across everyone, then linking pauses). A card number is answered the same
way whether it is on the roster or not, and costs nothing by itself: only the phone check
that follows can fail, so typing numbers tells nothing about who is a member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.keys import Keys, Purpose
from bot.messages import Contact, Reply
from bot.models import (
    ChannelAccount,
    DailySubscription,
    LinkFailure,
    Member,
    Organisation,
    RoleGrant,
)
from bot.services.audit import AuditService
from bot.services.codes import CodeService
from bot.services.outbox import OutboxService
from bot.services.permissions import Role
from bot.services.personal_data import PersonalDataService
from bot.services.phones import normalise_phone
from bot.services.roster_file import canonical_card
from bot.texts import text

# Bump when the consent text changes, so that what each member agreed to is known.
CONSENT_VERSION = "2026-11"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCK_DURATION = timedelta(hours=1)
CARD_MAX_FAILURES = 5
CARD_WINDOW = timedelta(hours=1)
OVERALL_MAX_FAILURES = 20
OVERALL_WINDOW = timedelta(minutes=10)
# Failure rows outlive every window, then go (jobs/housekeeping.py).
FAILURES_KEPT = timedelta(days=1)


class LinkResult(StrEnum):
    LINKED = "linked"
    # A card number was taken: known or not, the phone check comes next.
    CARD_TAKEN = "card_taken"
    ALREADY_LINKED = "already_linked"
    NOT_OWN_CONTACT = "not_own_contact"
    PHONE_MISMATCH = "phone_mismatch"
    BAD_CODE = "bad_code"
    LOCKED = "locked"
    CARD_LOCKED = "card_locked"
    BUSY = "busy"


@dataclass(frozen=True)
class LinkAttempt:
    result: LinkResult
    member_id: int | None = None
    locked_until: datetime | None = None
    card_key: str | None = None


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
        outbox: OutboxService,
        keys: Keys,
        codes: CodeService,
        personal: PersonalDataService,
    ) -> None:
        self._session = session
        self._audit = audit
        self._clock = clock
        self._outbox = outbox
        self._keys = keys
        self._codes = codes
        self._personal = personal

    async def _account(self, account_id: int) -> ChannelAccount:
        account = await self._session.get(ChannelAccount, account_id)
        if account is None:
            raise LookupError(f"no account {account_id}")
        return account

    async def locked_until(self, account_id: int) -> datetime | None:
        account = await self._account(account_id)
        until = account.link_locked_until
        return until if until is not None and until > self._clock() else None

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

    async def _refusal(self, account_id: int, card_key: str | None = None) -> LinkAttempt | None:
        """Why no attempt may be made now, checked before anything is looked up."""
        if (locked := await self.locked_until(account_id)) is not None:
            return LinkAttempt(LinkResult.LOCKED, locked_until=locked)
        if await self._failures_since(OVERALL_WINDOW) >= OVERALL_MAX_FAILURES:
            return LinkAttempt(LinkResult.BUSY)
        if card_key is not None and await self._failures_since(CARD_WINDOW, card_key) >= (
            CARD_MAX_FAILURES
        ):
            return LinkAttempt(LinkResult.CARD_LOCKED)
        return None

    async def _failures_since(self, window: timedelta, card_key: str | None = None) -> int:
        query = select(func.count(LinkFailure.id)).where(
            LinkFailure.failed_at > self._clock() - window
        )
        if card_key is not None:
            query = query.where(LinkFailure.card_key == card_key)
        return int(await self._session.scalar(query) or 0)

    async def check_card(self, account_id: int, card_text: str) -> LinkAttempt:
        """First step of linking by phone. Whether the card is an active member's, free or
        already linked, the answer is the same CARD_TAKEN (the member, if any, travels to the
        phone check, which alone can fail): the card step tells nothing and costs nothing."""
        canonical = canonical_card(card_text)
        card_key = self._keys.digest(Purpose.LINK_CARDS, canonical)
        if (refused := await self._refusal(account_id, card_key)) is not None:
            return refused
        member_id = await self._session.scalar(
            select(Member.id).where(Member.card_number == canonical, Member.active.is_(True))
        )
        return LinkAttempt(LinkResult.CARD_TAKEN, member_id, card_key=card_key)

    async def link_by_contact(
        self,
        account_id: int,
        member_id: int | None,
        card_key: str | None,
        sender_id: str,
        contact: Contact,
    ) -> LinkAttempt:
        """Telegram proves a shared contact is the sender's own when its user id matches;
        its phone must then be the roster's for the card (none for an unknown card)."""
        account = await self._account(account_id)
        if (refused := await self._refusal(account_id, card_key)) is not None:
            return refused
        if contact.user_id != sender_id:
            return await self._fail(account, LinkResult.NOT_OWN_CONTACT, card_key, member_id)
        member = None if member_id is None else await self._session.get(Member, member_id)
        shared = normalise_phone(contact.phone_number)
        if (
            member is None
            or not member.active
            or shared is None
            or normalise_phone(member.phone or "") != shared
        ):
            return await self._fail(account, LinkResult.PHONE_MISMATCH, card_key, member_id)
        return await self._link(account, member, "phone")

    async def link_by_code(self, account_id: int, code: str) -> LinkAttempt:
        account = await self._account(account_id)
        if (refused := await self._refusal(account_id)) is not None:
            return refused
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
        # The first-run tour starts now (handlers/tour.py); the adoption report counts the
        # members who never ask anything from here on.
        account.tour_started_at, account.asked_at = account.linked_at, None
        account.link_failures, account.link_window_started_at = 0, None
        await self._audit.record(
            f"account:{account.id}", "account.link", f"member:{member.id}", method=method
        )
        return LinkAttempt(LinkResult.LINKED, member.id)

    async def _fail(
        self,
        account: ChannelAccount,
        result: LinkResult,
        card_key: str | None,
        member_id: int | None = None,
    ) -> LinkAttempt:
        now = self._clock()
        self._session.add(LinkFailure(card_key=card_key, failed_at=now))
        await self._session.flush()
        await self._limits_reached(account, card_key, member_id)
        started = account.link_window_started_at
        if started is None or now - started > FAILURE_WINDOW:
            account.link_failures, account.link_window_started_at = 0, now
        account.link_failures += 1
        if account.link_failures < MAX_FAILURES:
            return LinkAttempt(result)
        account.link_locked_until = now + LOCK_DURATION
        account.link_failures, account.link_window_started_at = 0, None
        await self._audit.record(
            f"account:{account.id}",
            "account.link_locked",
            None,
            minutes=LOCK_DURATION.seconds // 60,
        )
        return LinkAttempt(LinkResult.LOCKED, locked_until=account.link_locked_until)

    async def _limits_reached(
        self, account: ChannelAccount, card_key: str | None, member_id: int | None
    ) -> None:
        """At the failure that reaches a limit: the audit line, and for a member's card the
        unit's secretaries are told someone is trying it."""
        if await self._failures_since(OVERALL_WINDOW) == OVERALL_MAX_FAILURES:
            await self._audit.record(
                f"account:{account.id}",
                "link.overall_paused",
                None,
                failures=OVERALL_MAX_FAILURES,
                minutes=OVERALL_WINDOW.seconds // 60,
            )
        if card_key is None or await self._failures_since(CARD_WINDOW, card_key) != (
            CARD_MAX_FAILURES
        ):
            return
        member = None
        if member_id is not None:
            member = await self._session.scalar(
                select(Member)
                .where(Member.id == member_id)
                .options(joinedload(Member.organisation))
            )
        await self._audit.record(
            f"account:{account.id}",
            "link.card_locked",
            f"member:{member.id}" if member is not None else None,
            failures=CARD_MAX_FAILURES,
        )
        if member is None:
            return
        secretaries = await self._session.scalars(
            select(RoleGrant.member_id)
            .join(Member, Member.id == RoleGrant.member_id)
            .where(
                RoleGrant.organisation_id == member.organisation_id,
                RoleGrant.role.in_((Role.SECRETARY, Role.DEPUTY_SECRETARY)),
                Member.active.is_(True),
            )
        )
        notice = text(
            "link.card_locked_notice",
            count=CARD_MAX_FAILURES,
            name=member.full_name,
            unit=member.organisation.name,
        )
        await self._outbox.enqueue_members(
            sorted(set(secretaries)), Reply(notice), kind="link_alert", now=self._clock()
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
        """Without consent nothing may be processed, so the account is unlinked too, and
        the question a day stops (linking again does not restart it)."""
        member_id = (await self._account(account_id)).member_id
        await self.unlink(account_id, actor=f"account:{account_id}")
        if member_id is not None:
            await self._session.execute(
                update(DailySubscription)
                .where(DailySubscription.member_id == member_id)
                .values(active=False, stopped_at=self._clock())
            )
        account = await self._account(account_id)
        account.consent_version, account.consent_at = None, None
        await self._audit.record(f"account:{account_id}", "consent.withdraw")

    async def erase(self, account_id: int) -> None:
        """The member's chat data goes, table by table (bot/services/personal_data.py); what
        the organisation keeps (the roster row, attendance, quiz results) stays."""
        owner = await self._personal.owner(account_id)
        await self.withdraw_consent(account_id)
        await self._personal.erase(owner, actor=f"account:{account_id}")

    async def personal_data(self, account_id: int) -> dict[str, Any]:
        """Everything stored about the account's member, for the member's own eyes: the
        account, the roster row (phone and card numbers masked, so the file is harmless if
        forwarded by mistake), roles, and each section of the registry
        (bot/services/personal_data.py)."""
        account = await self._account(account_id)
        data: dict[str, Any] = {
            "tai_khoan": {
                "kenh": account.channel,
                "lien_ket_luc": account.linked_at.isoformat() if account.linked_at else None,
                "phien_ban_dong_y": account.consent_version,
                "dong_y_luc": account.consent_at.isoformat() if account.consent_at else None,
            }
        }
        sections = await self._personal.export(await self._personal.owner(account_id))
        if account.member_id is None:
            return data | sections
        member = await self._session.scalar(
            select(Member)
            .where(Member.id == account.member_id)
            .options(joinedload(Member.organisation))
        )
        assert member is not None
        roles = await self._session.execute(
            select(RoleGrant.role, Organisation.name)
            .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
            .where(RoleGrant.member_id == member.id)
        )
        data["dang_vien"] = {
            "ho_ten": member.full_name,
            "ngay_sinh": member.birth_date.isoformat() if member.birth_date else None,
            "so_the": _mask(member.card_number),
            "so_dien_thoai": _mask(member.phone),
            "don_vi": member.organisation.name,
            "loai": "dự bị" if member.probationary else "chính thức",
        }
        data["vai_tro"] = [{"vai_tro": role, "don_vi": unit} for role, unit in roles]
        return data | sections
