"""A member's data rights, table by table: what `/dulieu` exports and what `/xoadulieu`
erases or anonymises (Luật Bảo vệ dữ liệu cá nhân 91/2025, Nghị định 356/2025).

`HANDLING` classifies every column of every table that can hold a member's data, and
`NOT_MEMBER_DATA` names the tables that cannot; tests/test_personal_data.py fails when a
column is added without being classified here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.models import (
    ActivationCode,
    ChannelAccount,
    CommitteeQuestion,
    ConversationState,
    HandbookQuery,
    Meeting,
    MeetingResponse,
    Member,
    Organisation,
    OutboxMessage,
    Quiz,
    QuizAttempt,
    RoleGrant,
)
from bot.services.audit import AuditService
from bot.services.linking import LinkingService
from bot.services.outbox import Status


class Fate(StrEnum):
    """What erasure does to a column."""

    ERASED = "erased"  # the row is deleted
    ANONYMISED = "anonymised"  # the row stays, this value is cleared or replaced
    KEPT = "kept"  # stays as it is, for the reason given
    NOT_PERSONAL = "not personal"  # an id, a flag or a moment that says nothing alone


@dataclass(frozen=True)
class Handling:
    fate: Fate
    # The /dulieu section that shows it; None when it is not shown (then `why` says why).
    export: str | None
    why: str = ""


def _h(fate: Fate, export: str | None, why: str = "") -> Handling:
    return Handling(fate, export, why)


E, A, K, N = Fate.ERASED, Fate.ANONYMISED, Fate.KEPT, Fate.NOT_PERSONAL
ROSTER = "the organisation committee's roster: the committee keeps it, not the chat"
ATTENDANCE = "attendance is the chi bộ's record of Party life; the counts must stay right"
QUIZ = "the unit's training results, reported to the committee"
OUTBOX = "the row keeps a notice's delivery counts; recipient and text are cleared"
AUDIT = "the append-only record of administrative acts; holds ids only, no numbers"
ROLE = "a role the committee granted; revoked by the committee"
SECTION_MEMBER, SECTION_ACCOUNTS = "dang_vien", "tai_khoan_lien_ket"

NOT_MEMBER_DATA: dict[str, str] = {
    "organisations": "the unit tree",
    "meetings": "a unit's meetings; `created_by` names an actor as in the audit log",
    "meeting_reminders": "when a meeting's reminders are due",
    "quiz_questions": "question banks",
    "quizzes": "a unit's quizzes; the member the report goes to is a role, not their data",
    "quiz_targets": "the units a quiz is for",
    "broadcasts": "a notice the unit sent; its author acted for the chi bộ",
    "audit_log": AUDIT,
    "link_failures": "failed attempts against a card, kept one day for the limits",
}

HANDLING: dict[tuple[str, str], Handling] = {
    ("members", "id"): _h(N, None, "internal id"),
    ("members", "card_number"): _h(K, SECTION_MEMBER, ROSTER),
    ("members", "full_name"): _h(K, SECTION_MEMBER, ROSTER),
    ("members", "birth_date"): _h(K, SECTION_MEMBER, ROSTER),
    ("members", "phone"): _h(K, SECTION_MEMBER, ROSTER),
    ("members", "organisation_id"): _h(K, SECTION_MEMBER, ROSTER),
    ("members", "probationary"): _h(K, SECTION_MEMBER, ROSTER),
    ("members", "active"): _h(K, None, ROSTER),
    ("members", "preferred_channel"): _h(A, SECTION_MEMBER),
    ("members", "created_at"): _h(N, None, "when the roster row was made"),
    ("members", "updated_at"): _h(N, None, "when the roster row last changed"),
    ("channel_accounts", "id"): _h(N, None, "internal id"),
    ("channel_accounts", "channel"): _h(K, SECTION_ACCOUNTS, "which messenger, without the id"),
    ("channel_accounts", "external_id"): _h(A, None, "the messenger's id; of no use to read"),
    ("channel_accounts", "chat_id"): _h(A, None, "the messenger's id; of no use to read"),
    ("channel_accounts", "member_id"): _h(A, SECTION_ACCOUNTS),
    ("channel_accounts", "linked_at"): _h(A, SECTION_ACCOUNTS),
    ("channel_accounts", "consent_version"): _h(A, "tai_khoan"),
    ("channel_accounts", "consent_at"): _h(A, "tai_khoan"),
    ("channel_accounts", "link_failures"): _h(A, None, "a counter for the lock"),
    ("channel_accounts", "link_window_started_at"): _h(A, None, "a counter for the lock"),
    ("channel_accounts", "link_locked_until"): _h(A, None, "a counter for the lock"),
    ("channel_accounts", "blocked_at"): _h(A, None, "whether the messenger refused delivery"),
    ("channel_accounts", "created_at"): _h(N, None, "when the row was made"),
    ("channel_accounts", "last_seen_at"): _h(N, None, "rounded to the hour, unlinked after"),
    ("role_grants", "id"): _h(N, None, "internal id"),
    ("role_grants", "member_id"): _h(K, "vai_tro", ROLE),
    ("role_grants", "role"): _h(K, "vai_tro", ROLE),
    ("role_grants", "organisation_id"): _h(K, "vai_tro", ROLE),
    ("role_grants", "granted_at"): _h(K, None, ROLE),
    ("role_grants", "granted_by"): _h(K, None, ROLE),
    ("activation_codes", "id"): _h(E, None, "internal id"),
    ("activation_codes", "member_id"): _h(E, None, "a keyed hash no one can read"),
    ("activation_codes", "code_hash"): _h(E, None, "a keyed hash no one can read"),
    ("activation_codes", "hash_scheme"): _h(E, None, "a keyed hash no one can read"),
    ("activation_codes", "created_at"): _h(E, None, "a keyed hash no one can read"),
    ("activation_codes", "expires_at"): _h(E, None, "a keyed hash no one can read"),
    ("activation_codes", "used_at"): _h(E, None, "a keyed hash no one can read"),
    ("activation_codes", "issued_by"): _h(E, None, "a keyed hash no one can read"),
    ("conversation_states", "account_id"): _h(E, None, "where a conversation stands"),
    ("conversation_states", "flow"): _h(E, None, "where a conversation stands"),
    ("conversation_states", "step"): _h(E, None, "where a conversation stands"),
    ("conversation_states", "data"): _h(E, None, "where a conversation stands"),
    ("conversation_states", "choices"): _h(E, None, "where a conversation stands"),
    ("conversation_states", "updated_at"): _h(E, None, "where a conversation stands"),
    # Not tied to who asked: the member's name and phone numbers are masked in the text.
    ("handbook_queries", "question"): _h(A, None, "anonymous: not tied to who asked it"),
    ("handbook_queries", "id"): _h(N, None, "internal id"),
    ("handbook_queries", "asked_at"): _h(N, None, "anonymous"),
    ("handbook_queries", "answered"): _h(N, None, "anonymous"),
    ("handbook_queries", "entry_id"): _h(N, None, "anonymous"),
    ("handbook_queries", "score"): _h(N, None, "anonymous"),
    ("handbook_queries", "helpful"): _h(N, None, "anonymous"),
    ("committee_questions", "id"): _h(E, None, "internal id"),
    ("committee_questions", "account_id"): _h(E, "cau_hoi_gui_cap_uy"),
    ("committee_questions", "organisation_id"): _h(E, None, "the unit it was sent to"),
    ("committee_questions", "question"): _h(E, "cau_hoi_gui_cap_uy"),
    ("committee_questions", "asked_at"): _h(E, "cau_hoi_gui_cap_uy"),
    ("committee_questions", "answer"): _h(E, "cau_hoi_gui_cap_uy"),
    # A secretary who erases their data: their answers to others stay, without their name.
    ("committee_questions", "answered_by"): _h(A, None, "who answered someone else's question"),
    ("committee_questions", "answered_at"): _h(E, "cau_hoi_gui_cap_uy"),
    ("outbox", "id"): _h(N, None, "internal id"),
    ("outbox", "created_at"): _h(K, "tin_nhan_bot_gui", OUTBOX),
    ("outbox", "kind"): _h(K, "tin_nhan_bot_gui", OUTBOX),
    ("outbox", "broadcast_id"): _h(K, None, OUTBOX),
    ("outbox", "member_id"): _h(A, "tin_nhan_bot_gui"),
    ("outbox", "account_id"): _h(A, None, OUTBOX),
    ("outbox", "channel"): _h(K, None, OUTBOX),
    ("outbox", "chat_id"): _h(A, None, "the messenger's id; of no use to read"),
    ("outbox", "payload"): _h(A, "tin_nhan_bot_gui"),
    ("outbox", "status"): _h(K, "tin_nhan_bot_gui", OUTBOX),
    ("outbox", "attempts"): _h(K, None, OUTBOX),
    ("outbox", "next_attempt_at"): _h(K, None, OUTBOX),
    ("outbox", "claimed_at"): _h(K, None, OUTBOX),
    ("outbox", "sent_at"): _h(K, None, OUTBOX),
    ("outbox", "message_id"): _h(A, None, "the messenger's id of the message"),
    ("outbox", "error"): _h(K, None, OUTBOX),
    ("meeting_responses", "id"): _h(N, None, "internal id"),
    ("meeting_responses", "meeting_id"): _h(K, "diem_danh", ATTENDANCE),
    ("meeting_responses", "occurrence_at"): _h(K, "diem_danh", ATTENDANCE),
    ("meeting_responses", "member_id"): _h(K, "diem_danh", ATTENDANCE),
    ("meeting_responses", "answer"): _h(K, "diem_danh", ATTENDANCE),
    ("meeting_responses", "reason"): _h(A, "diem_danh"),
    ("meeting_responses", "answered_at"): _h(K, "diem_danh", ATTENDANCE),
    ("meeting_responses", "attended"): _h(K, "diem_danh", ATTENDANCE),
    ("quiz_attempts", "id"): _h(N, None, "internal id"),
    ("quiz_attempts", "quiz_id"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "member_id"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "number"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "started_at"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "finished_at"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "score"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "passed"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_attempts", "question_order"): _h(K, None, QUIZ),
    ("quiz_attempts", "choice_orders"): _h(K, None, QUIZ),
    ("quiz_attempts", "current_index"): _h(K, None, QUIZ),
    ("quiz_attempts", "current_sent_at"): _h(K, None, QUIZ),
    ("quiz_answers", "id"): _h(N, None, "internal id"),
    ("quiz_answers", "attempt_id"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_answers", "question_id"): _h(K, None, QUIZ),
    ("quiz_answers", "chosen"): _h(K, None, QUIZ),
    ("quiz_answers", "correct"): _h(K, "trac_nghiem", QUIZ),
    ("quiz_answers", "answered_at"): _h(K, None, QUIZ),
}

MASK = "[đã xóa]"


def _mask(value: str | None) -> str | None:
    return None if not value else f"***{value[-4:]}"


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def _digits_pattern(number: str) -> re.Pattern[str]:
    """The number however it was typed: "0912 345 678", "0912.345.678", "+84 912…"."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("0"):
        digits = digits[1:]
    return re.compile(r"(?:\+?84|0)?[\s.\-]*" + r"[\s.\-]*".join(digits))


class PersonalDataService:
    def __init__(self, session: AsyncSession, audit: AuditService, linking: LinkingService):
        self._session = session
        self._audit = audit
        self._linking = linking

    async def _account(self, account_id: int) -> ChannelAccount:
        account = await self._session.get(ChannelAccount, account_id)
        if account is None:
            raise LookupError(f"no account {account_id}")
        return account

    async def _account_ids(self, account: ChannelAccount) -> list[int]:
        if account.member_id is None:
            return [account.id]
        linked = await self._session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.member_id == account.member_id)
        )
        return sorted({account.id, *linked})

    async def export(self, account_id: int) -> dict[str, Any]:
        """Everything stored about the account's member, for the member's own eyes; phone and
        card numbers are masked so the file is harmless if forwarded by mistake."""
        account = await self._account(account_id)
        data: dict[str, Any] = {
            "tai_khoan": {
                "kenh": account.channel,
                "lien_ket_luc": _iso(account.linked_at),
                "phien_ban_dong_y": account.consent_version,
                "dong_y_luc": _iso(account.consent_at),
            }
        }
        account_ids = await self._account_ids(account)
        data["cau_hoi_gui_cap_uy"] = [
            {
                "cau_hoi": q.question,
                "hoi_luc": _iso(q.asked_at),
                "tra_loi": q.answer,
                "tra_loi_luc": _iso(q.answered_at),
            }
            for q in await self._session.scalars(
                select(CommitteeQuestion)
                .where(CommitteeQuestion.account_id.in_(account_ids))
                .order_by(CommitteeQuestion.id)
            )
        ]
        if account.member_id is None:
            return data
        member = await self._session.scalar(
            select(Member)
            .where(Member.id == account.member_id)
            .options(joinedload(Member.organisation))
        )
        assert member is not None
        data[SECTION_MEMBER] = {
            "ho_ten": member.full_name,
            "ngay_sinh": member.birth_date.isoformat() if member.birth_date else None,
            "so_the": _mask(member.card_number),
            "so_dien_thoai": _mask(member.phone),
            "don_vi": member.organisation.name,
            "loai": "dự bị" if member.probationary else "chính thức",
            "kenh_nhan_thong_bao": member.preferred_channel,
        }
        accounts = await self._session.scalars(
            select(ChannelAccount).where(ChannelAccount.member_id == member.id)
        )
        data[SECTION_ACCOUNTS] = [
            {"kenh": a.channel, "lien_ket_luc": _iso(a.linked_at)} for a in accounts
        ]
        roles = await self._session.execute(
            select(RoleGrant.role, Organisation.name)
            .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
            .where(RoleGrant.member_id == member.id)
        )
        data["vai_tro"] = [{"vai_tro": role, "don_vi": unit} for role, unit in roles]
        responses = await self._session.execute(
            select(MeetingResponse, Meeting.title)
            .join(Meeting, Meeting.id == MeetingResponse.meeting_id)
            .where(MeetingResponse.member_id == member.id)
            .order_by(MeetingResponse.occurrence_at)
        )
        data["diem_danh"] = [
            {
                "cuoc_hop": title,
                "thoi_gian": _iso(r.occurrence_at),
                "tra_loi": r.answer,
                "ly_do_vang": r.reason,
                "tra_loi_luc": _iso(r.answered_at),
                "co_mat": r.attended,
            }
            for r, title in responses
        ]
        attempts = await self._session.execute(
            select(QuizAttempt, Quiz.title)
            .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .where(QuizAttempt.member_id == member.id)
            .order_by(QuizAttempt.id)
        )
        data["trac_nghiem"] = [
            {
                "bai": title,
                "lan": a.number,
                "bat_dau": _iso(a.started_at),
                "xong": _iso(a.finished_at),
                "diem": a.score,
                "dat": a.passed,
            }
            for a, title in attempts
        ]
        sent = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.member_id == member.id)
            .order_by(OutboxMessage.id)
        )
        data["tin_nhan_bot_gui"] = [
            {
                "loai": row.kind,
                "luc": _iso(row.created_at),
                "trang_thai": row.status,
                "noi_dung": row.payload.get("text"),
            }
            for row in sent
        ]
        return data

    async def erase(self, account_id: int) -> None:
        """Erases or anonymises every column HANDLING says, for the account and the other
        accounts of its member; the roster row, attendance and quiz results stay."""
        account = await self._account(account_id)
        member_id = account.member_id
        account_ids = await self._account_ids(account)
        member = None if member_id is None else await self._session.get(Member, member_id)
        await self._linking.withdraw_consent(account_id)
        session = self._session
        await session.execute(
            delete(ConversationState).where(ConversationState.account_id.in_(account_ids))
        )
        await session.execute(
            delete(CommitteeQuestion).where(CommitteeQuestion.account_id.in_(account_ids))
        )
        mine = OutboxMessage.account_id.in_(account_ids)
        if member_id is not None:
            mine = or_(mine, OutboxMessage.member_id == member_id)
        await session.execute(
            update(OutboxMessage)
            .where(mine, OutboxMessage.status.in_([Status.PENDING, Status.SENDING]))
            .values(status=Status.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(OutboxMessage)
            .where(mine)
            .values(member_id=None, account_id=None, chat_id=None, payload={}, message_id=None)
            .execution_options(synchronize_session=False)
        )
        for each in (
            await session.scalars(select(ChannelAccount).where(ChannelAccount.id.in_(account_ids)))
        ).all():
            each.external_id, each.chat_id = f"erased:{each.id}", ""
            each.member_id, each.linked_at = None, None
            each.consent_version, each.consent_at, each.blocked_at = None, None, None
            each.link_failures, each.link_window_started_at = 0, None
            each.link_locked_until = None
        if member is not None:
            await self._erase_member(member)
        await self._audit.record(f"account:{account_id}", "account.erase")

    async def _erase_member(self, member: Member) -> None:
        session = self._session
        member.preferred_channel = None
        await session.execute(delete(ActivationCode).where(ActivationCode.member_id == member.id))
        await session.execute(
            update(MeetingResponse)
            .where(MeetingResponse.member_id == member.id)
            .values(reason=None)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(CommitteeQuestion)
            .where(CommitteeQuestion.answered_by == member.id)
            .values(answered_by=None)
            .execution_options(synchronize_session=False)
        )
        await self._mask_queries(member)

    async def _mask_queries(self, member: Member) -> None:
        """Anonymous handbook questions that name the member or give their numbers."""
        patterns = [re.compile(re.escape(member.full_name), re.IGNORECASE)]
        hints = [f"%{member.full_name.rpartition(' ')[2]}%"]
        for number in (member.phone, member.card_number):
            digits = re.sub(r"\D", "", number or "")
            if len(digits) >= 4:
                patterns.append(_digits_pattern(digits))
                hints.append(f"%{digits[-2:]}%")
        candidates = await self._session.scalars(
            select(HandbookQuery).where(or_(*(HandbookQuery.question.ilike(h) for h in hints)))
        )
        for query in candidates:
            masked = query.question
            for pattern in patterns:
                masked = pattern.sub(MASK, masked)
            if masked != query.question:
                query.question = masked
