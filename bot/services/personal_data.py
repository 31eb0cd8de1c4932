"""Every place the database can hold a member's personal data, and what /dulieu (export) and
/xoadulieu (erasure) do with each — Luật Bảo vệ dữ liệu cá nhân 91/2025, Nghị định 356/2025.

The registry is what runs: `export` and `erase` walk it, and a test checks that every column
of every table is either in it or in NOT_PERSONAL, so a new column fails until someone
decides what erasure does with it.

Erasure is the member's chat data. What the Party organisation keeps for itself stays, each
with its reason: the roster row (the committee's, under the Điều lệ), attendance marks and
quiz results (the unit's record of its meetings and training; their free text goes), role
grants, notices a secretary sent for the unit, and the audit log (who did what, ids only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keys import Keys, Purpose
from bot.models import (
    ActivationCode,
    AuditEntry,
    Base,
    Broadcast,
    ChannelAccount,
    CommitteeQuestion,
    ConversationState,
    DailyCard,
    DailyQuestion,
    DailySubscription,
    HandbookQuery,
    IntakeUpdate,
    Meeting,
    MeetingResponse,
    Member,
    OutboxMessage,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    RoleGrant,
    WebLogin,
)
from bot.services.audit import AuditService
from bot.services.outbox import Status


class Erasure(StrEnum):
    DELETE = "delete"  # the member's rows go
    CLEAR = "clear"  # the rows stay (for the reason given); the `cleared` columns are emptied
    KEEP = "keep"  # the rows stay as they are, for the reason given


@dataclass(frozen=True)
class Owner:
    """Whose data: the member (None for an account never linked) and their accounts."""

    member_id: int | None
    account_ids: tuple[int, ...]
    asker_keys: tuple[str, ...]

    @property
    def refs(self) -> tuple[str, ...]:
        """How the audit log and `created_by` columns name them."""
        member = () if self.member_id is None else (f"member:{self.member_id}",)
        return member + tuple(f"account:{a}" for a in self.account_ids)


def _member(column: Any) -> Callable[[Owner], ColumnElement[bool]]:
    return lambda o: column == o.member_id if o.member_id is not None else false()


def _accounts(column: Any) -> Callable[[Owner], ColumnElement[bool]]:
    return lambda o: column.in_(o.account_ids)


def _refs(column: Any) -> Callable[[Owner], ColumnElement[bool]]:
    return lambda o: column.in_(o.refs)


def _outbox(o: Owner) -> ColumnElement[bool]:
    """Messages to the member, or to any of their accounts."""
    return or_(_accounts(OutboxMessage.account_id)(o), _member(OutboxMessage.member_id)(o))


@dataclass(frozen=True)
class Holding:
    """Columns of one table that can hold a member's data, the member's rows there, and
    what export and erasure do with them."""

    table: str
    columns: tuple[str, ...]
    rows: Callable[[Owner], ColumnElement[bool]] | None
    erasure: Erasure
    reason: str
    # The section of /dulieu's file (None: not exported, `reason` says why).
    export: str | None = None
    exported: tuple[str, ...] = ()
    # Under Erasure.CLEAR: the values the member's data is replaced with.
    cleared: dict[str, Any] = field(default_factory=dict)


REGISTRY: tuple[Holding, ...] = (
    Holding(
        "intake_updates",
        ("raw",),
        lambda o: IntakeUpdate.chat_key.in_(
            select(ChannelAccount.chat_id).where(ChannelAccount.id.in_(o.account_ids))
        ),
        Erasure.CLEAR,
        "updates as the messenger delivered them (the member's words, name, contact): the"
        " rows stay until housekeeping purges them, 7 days after they were handled, so that"
        " the update being handled (/xoadulieu itself) is still marked done",
        cleared={"raw": {}},
    ),
    Holding(
        "intake_updates",
        ("chat_key",),
        None,
        Erasure.KEEP,
        "the chat's id orders its updates while one is waiting; purged with the row, 7 days"
        " after it was handled (jobs/housekeeping.py)",
    ),
    Holding(
        "members",
        (
            "card_number",
            "full_name",
            "birth_date",
            "phone",
            "organisation_id",
            "probationary",
            "admission_date",
            "sponsor1_card",
            "sponsor2_card",
            "probation_reminded_for",
        ),
        lambda o: Member.id == o.member_id,
        Erasure.KEEP,
        "the committee's roster (Điều lệ Đảng), the probationary year included; exported under"
        " dang_vien, card and phone masked",
    ),
    Holding(
        "members",
        ("named_in_rankings",),
        lambda o: Member.id == o.member_id,
        Erasure.CLEAR,
        "the member's choice to be named in rankings (/tenxephang): forgotten with the chat data",
        cleared={"named_in_rankings": False},
        export="ten_trong_xep_hang",
        exported=("named_in_rankings",),
    ),
    Holding(
        "members",
        ("preferred_channel",),
        lambda o: Member.id == o.member_id,
        Erasure.CLEAR,
        "a chat preference: forgotten with the chat data",
        cleared={"preferred_channel": None},
        export="kenh_uu_tien",
        exported=("preferred_channel",),
    ),
    Holding(
        "channel_accounts",
        (
            "external_id",
            "chat_id",
            "member_id",
            "linked_at",
            "consent_version",
            "consent_at",
            "blocked_at",
            "last_seen_at",
            "tour_started_at",
            "asked_at",
        ),
        _accounts(ChannelAccount.id),
        Erasure.CLEAR,
        "the row stays, emptied of the messenger's ids, because audit lines name account:N",
        export="tai_khoan_lien_ket",
        exported=("channel", "linked_at", "consent_version", "consent_at", "last_seen_at"),
        cleared={
            "member_id": None,
            "linked_at": None,
            "consent_version": None,
            "consent_at": None,
            "blocked_at": None,
            "tour_started_at": None,
            "asked_at": None,
            "chat_id": "",
            "link_failures": 0,
            "link_window_started_at": None,
            "link_locked_until": None,
            # external_id is set per row to "erased-<id>" (unique per messenger).
        },
    ),
    Holding(
        "conversation_states",
        ("flow", "step", "data", "choices"),
        _accounts(ConversationState.account_id),
        Erasure.DELETE,
        "where a conversation stands",
        export="tro_chuyen",
        exported=("flow", "step", "data", "updated_at"),
    ),
    Holding(
        "committee_questions",
        ("question", "answer", "asked_at", "answered_at", "account_id"),
        _accounts(CommitteeQuestion.account_id),
        Erasure.DELETE,
        "questions the member sent to the committee, and the answers",
        export="cau_hoi_gui_ban_to_chuc",
        exported=("question", "asked_at", "answer", "answered_at"),
    ),
    Holding(
        "committee_questions",
        ("answered_by",),
        _member(CommitteeQuestion.answered_by),
        Erasure.KEEP,
        "who answered for the committee: the asker's record of who told them what",
    ),
    Holding(
        "handbook_queries",
        ("question", "asker_key", "asked_at", "helpful"),
        lambda o: HandbookQuery.asker_key.in_(o.asker_keys),
        Erasure.DELETE,
        "handbook questions, by a keyed hash of the account (no id readable in the table);"
        " older than SOTAY_RETENTION_DAYS they are purged anyway",
        export="cau_hoi_so_tay",
        exported=("question", "asked_at", "answered", "helpful"),
    ),
    Holding(
        "outbox",
        ("member_id", "account_id", "chat_id", "payload", "message_id", "error", "idempotency_key"),
        _outbox,
        Erasure.CLEAR,
        "messages sent to the member: a notice's report counts its rows, so they stay, without"
        " recipient, chat id, text or key; unsent ones are cancelled",
        export="tin_nhan_da_gui",
        exported=("kind", "created_at", "status", "sent_at", "payload"),
        cleared={
            "member_id": None,
            "account_id": None,
            "chat_id": None,
            "payload": {},
            "message_id": None,
            "error": None,
            "idempotency_key": None,
        },
    ),
    Holding(
        "meeting_responses",
        ("reason",),
        _member(MeetingResponse.member_id),
        Erasure.CLEAR,
        "the reason given for an absence is free text (health, a phone number): it goes",
        export="tra_loi_hop",
        exported=("meeting_id", "occurrence_at", "answer", "reason", "answered_at", "attended"),
        cleared={"reason": None},
    ),
    Holding(
        "meeting_responses",
        ("member_id", "answer", "answered_at", "attended"),
        _member(MeetingResponse.member_id),
        Erasure.KEEP,
        "attendance is the unit's record of its meetings (counts per member, Điều lệ)",
    ),
    Holding(
        "quiz_attempts",
        ("member_id", "started_at", "finished_at", "score", "passed", "current_sent_at"),
        _member(QuizAttempt.member_id),
        Erasure.KEEP,
        "quiz results are the unit's training record; no free text",
        export="bai_trac_nghiem",
        exported=("quiz_id", "number", "started_at", "finished_at", "score", "passed"),
    ),
    Holding(
        "quiz_answers",
        ("chosen", "correct", "answered_at"),
        lambda o: QuizAnswer.attempt_id.in_(
            select(QuizAttempt.id).where(QuizAttempt.member_id == o.member_id)
        ),
        Erasure.KEEP,
        "the answers behind a kept quiz result (a choice's index, no free text)",
        export="cau_tra_loi_trac_nghiem",
        exported=("attempt_id", "question_id", "chosen", "correct", "answered_at"),
    ),
    Holding(
        "web_logins",
        ("member_id", "created_at", "used_at", "ended_at", "token_hash"),
        _member(WebLogin.member_id),
        Erasure.DELETE,
        "sign-ins to the web console",
        export="dang_nhap_web",
        exported=("created_at", "used_at", "ended_at"),
    ),
    Holding(
        "activation_codes",
        ("member_id", "code_hash", "created_at", "used_at"),
        _member(ActivationCode.member_id),
        Erasure.DELETE,
        "codes for linking an account; a used one is history the audit log keeps",
        export="ma_kich_hoat",
        exported=("created_at", "expires_at", "used_at"),
    ),
    Holding(
        "role_grants",
        ("member_id", "role", "organisation_id", "granted_at"),
        _member(RoleGrant.member_id),
        Erasure.KEEP,
        "roles are the organisation's appointments; exported under vai_tro",
    ),
    Holding(
        "broadcasts",
        ("sender_member_id", "actor", "text"),
        _member(Broadcast.sender_member_id),
        Erasure.KEEP,
        "a notice sent for the unit belongs to the unit",
        export="thong_bao_da_gui",
        exported=("created_at", "text"),
    ),
    Holding(
        "audit_log",
        ("actor", "target", "details", "at"),
        lambda o: or_(AuditEntry.actor.in_(o.refs), AuditEntry.target.in_(o.refs)),
        Erasure.KEEP,
        "accountability for acts on the organisation's data (ids and counts only, never a"
        " phone or card number or a text)",
        export="nhat_ky",
        exported=("at", "action", "target"),
    ),
    Holding(
        "meetings",
        ("created_by",),
        _refs(Meeting.created_by),
        Erasure.KEEP,
        "who set the unit's meeting up (an actor reference)",
    ),
    Holding(
        "quizzes",
        ("created_by",),
        _refs(Quiz.created_by),
        Erasure.KEEP,
        "who set the quiz up (an actor reference)",
    ),
    Holding(
        "quizzes",
        ("report_to_member_id",),
        _member(Quiz.report_to_member_id),
        Erasure.KEEP,
        "who receives the quiz's results (a trainer's role)",
    ),
    Holding(
        "role_grants",
        ("granted_by",),
        _refs(RoleGrant.granted_by),
        Erasure.KEEP,
        "who granted a role (an actor reference)",
    ),
    Holding(
        "activation_codes",
        ("issued_by",),
        _refs(ActivationCode.issued_by),
        Erasure.KEEP,
        "who issued codes (an actor reference)",
    ),
    Holding(
        "web_logins",
        ("issued_by",),
        _refs(WebLogin.issued_by),
        Erasure.KEEP,
        "who issued a sign-in link (an actor reference)",
    ),
    Holding(
        "daily_subscriptions",
        ("member_id", "send_minute", "active", "since", "stopped_at"),
        _member(DailySubscription.member_id),
        Erasure.DELETE,
        "the question a day the member asked for (/hangngay), and at what time",
        export="cau_hoi_hang_ngay",
        exported=("send_minute", "active", "since", "stopped_at"),
    ),
    Holding(
        "daily_cards",
        ("member_id", "question_id", "box", "due_on", "answered_at"),
        _member(DailyCard.member_id),
        Erasure.DELETE,
        "where each question stands in the member's Leitner boxes",
        export="on_tap_hang_ngay",
        exported=("question_id", "box", "due_on", "answered_at"),
    ),
    Holding(
        "daily_questions",
        (
            "member_id",
            "organisation_id",
            "day",
            "question_id",
            "choices",
            "right",
            "sent_at",
            "chosen",
            "correct",
            "answered_at",
        ),
        _member(DailyQuestion.member_id),
        Erasure.DELETE,
        "the daily questions sent and the member's answers; self-study, so unlike a scheduled"
        " quiz's results they go (the month's unit ranking counts one member fewer)",
        export="cau_hoi_hang_ngay_da_gui",
        exported=("day", "question_id", "sent_at", "chosen", "correct", "answered_at"),
    ),
    Holding(
        "link_failures",
        ("card_key", "failed_at"),
        None,
        Erasure.KEEP,
        "a keyed hash of a card number someone typed, not tied to an account; purged after a"
        " day (jobs/housekeeping.py)",
    ),
)

# Columns that hold nothing about a person: ids, states, the organisation's own content.
NOT_PERSONAL: dict[str, tuple[str, ...]] = {
    "daily_subscriptions": ("id",),
    "daily_cards": ("id",),
    "daily_questions": ("id",),
    "intake_updates": (
        "id",
        "messenger",
        "update_key",
        "received_at",
        "attempts",
        "lease_until",
        "done_at",
    ),
    "organisations": ("id", "parent_id", "name", "path", "active", "merged_into_id", "created_at"),
    "members": ("id", "active", "created_at", "updated_at"),
    "channel_accounts": (
        "id",
        "channel",
        "link_failures",
        "link_window_started_at",
        "link_locked_until",
        "created_at",
    ),
    "role_grants": ("id",),
    "activation_codes": ("id", "expires_at"),
    "conversation_states": ("account_id", "updated_at"),
    "audit_log": ("id", "action"),
    "handbook_queries": ("id", "answered", "entry_id", "score"),
    "committee_questions": ("id", "organisation_id"),
    "broadcasts": ("id", "created_at", "unit_ids", "progress_row_id", "finished_at"),
    "outbox": (
        "id",
        "created_at",
        "kind",
        "broadcast_id",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
    ),
    "meetings": (
        "id",
        "organisation_id",
        "kind",
        "title",
        "place",
        "agenda",
        "document",
        "starts_at",
        "recurrence",
        "reminder_offsets",
        "created_at",
        "cancelled_at",
    ),
    "meeting_reminders": (
        "id",
        "meeting_id",
        "occurrence_at",
        "offset_minutes",
        "due_at",
        "status",
        "handled_at",
    ),
    "meeting_responses": ("id", "meeting_id", "occurrence_at"),
    "quiz_questions": (
        "id",
        "bank_id",
        "question_id",
        "text",
        "choices",
        "answer",
        "explanation",
        "topic",
        "difficulty",
        "entry",
    ),
    "quizzes": (
        "id",
        "title",
        "created_at",
        "bank_ids",
        "topics",
        "question_count",
        "shuffle_questions",
        "shuffle_choices",
        "seconds_per_question",
        "pass_mark",
        "opens_at",
        "closes_at",
        "attempts_allowed",
        "show_explanations",
        "state",
        "reminded_at",
    ),
    "quiz_targets": ("id", "quiz_id", "organisation_id"),
    "quiz_attempts": (
        "id",
        "quiz_id",
        "number",
        "question_order",
        "choice_orders",
        "current_index",
    ),
    "quiz_answers": ("id", "attempt_id", "question_id"),
    "web_logins": ("id", "expires_at"),
    "link_failures": ("id",),
}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _entity(name: str) -> type[Base]:
    """The model of a table: statements on it keep the session's loaded rows in step."""
    (found,) = [m.class_ for m in Base.registry.mappers if m.local_table.name == name]
    return found  # type: ignore[no-any-return]


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def asker_key(keys: Keys, account_id: int) -> str:
    """How a handbook question names its asker: unreadable without the server's secret."""
    return keys.digest(Purpose.ASKERS, str(account_id))


class PersonalDataService:
    def __init__(self, session: AsyncSession, keys: Keys, audit: AuditService) -> None:
        self._session = session
        self._keys = keys
        self._audit = audit

    async def owner(self, account_id: int) -> Owner:
        """The account's member and all that member's accounts (only this one if unlinked)."""
        member_id = await self._session.scalar(
            select(ChannelAccount.member_id).where(ChannelAccount.id == account_id)
        )
        accounts = {account_id}
        if member_id is not None:
            accounts |= set(
                await self._session.scalars(
                    select(ChannelAccount.id).where(ChannelAccount.member_id == member_id)
                )
            )
        ordered = tuple(sorted(accounts))
        return Owner(member_id, ordered, tuple(asker_key(self._keys, a) for a in ordered))

    async def export(self, owner: Owner) -> dict[str, list[dict[str, object]]]:
        """Each registered section: the member's rows, the exported columns of each."""
        sections: dict[str, list[dict[str, object]]] = {}
        for holding in REGISTRY:
            if holding.export is None or holding.rows is None:
                continue
            table = _table(holding.table)
            columns = [table.c[name] for name in holding.exported]
            rows = await self._session.execute(
                select(*columns).where(holding.rows(owner)).order_by(*table.primary_key.columns)
            )
            sections[holding.export] = [
                {name: _plain(value) for name, value in zip(holding.exported, row, strict=True)}
                for row in rows
            ]
        return sections

    async def erase(self, owner: Owner, *, actor: str) -> dict[str, int]:
        """Deletes or clears what the registry says; returns the rows touched per table."""
        touched: dict[str, int] = {}
        # Unsent messages are cancelled before their text is cleared.
        await self._session.execute(
            update(OutboxMessage)
            .where(_outbox(owner), OutboxMessage.status.in_((Status.PENDING, Status.SENDING)))
            .values(status=Status.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        for holding in REGISTRY:
            if holding.rows is None or holding.erasure is Erasure.KEEP:
                continue
            entity = _entity(holding.table)
            if holding.erasure is Erasure.DELETE:
                result = await self._session.execute(delete(entity).where(holding.rows(owner)))
            else:
                result = await self._session.execute(
                    update(entity).where(holding.rows(owner)).values(**holding.cleared)
                )
            touched[holding.table] = touched.get(holding.table, 0) + result.rowcount
        for account_id in owner.account_ids:
            await self._session.execute(
                update(ChannelAccount)
                .where(ChannelAccount.id == account_id)
                .values(external_id=f"erased-{account_id}")
            )
        await self._audit.record(actor, "account.erase", None, **touched)
        return touched
