"""Database tables, as SQLAlchemy 2 typed models. Alembic migrations follow these."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Organisation(Base):
    """A node of the Party organisation tree (provincial committee ... chi bộ).

    `path` is the chain of ids from the root ("/1/4/9/"), so "this unit and all under it"
    is one indexed prefix match instead of a recursive query.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        # Prefix matches (path LIKE '/1/4/%') use an index on PostgreSQL only with this.
        Index(
            "ix_organisations_path_prefix",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the unit was merged into another: its rows stay, so history keeps its meaning.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], foreign_keys=[parent_id])


class Member(Base):
    """A Party member as the organisation committee's roster lists them."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    probationary: Mapped[bool] = mapped_column(Boolean, default=False)
    # The probationary year (bot/services/probation.py): the admission date and the card
    # numbers of the two sponsors, as the roster gives them; and the end of the year the
    # reminders were sent for (a corrected admission date is reminded again).
    admission_date: Mapped[date | None] = mapped_column(Date)
    sponsor1_card: Mapped[str | None] = mapped_column(String(32))
    sponsor2_card: Mapped[str | None] = mapped_column(String(32))
    probation_reminded_for: Mapped[date | None] = mapped_column(Date)
    # The member chose to have their name shown in unit rankings (/tenxephang).
    named_in_rankings: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where proactive messages go when the member linked several messengers (None: the
    # one linked first).
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()


class ChannelAccount(Base):
    """A messenger account (Telegram user, Zalo user, the console), linked to at most one
    member; a member has at most one account per messenger (NULLs never collide)."""

    __tablename__ = "channel_accounts"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        UniqueConstraint("member_id", "channel"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    linked_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(16))
    consent_at: Mapped[datetime | None]
    # Failed linking attempts within the current window, and the lock they may have caused.
    link_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    link_window_started_at: Mapped[datetime | None]
    link_locked_until: Mapped[datetime | None]
    # Set when the messenger said the member blocked the bot; nothing is sent here then.
    blocked_at: Mapped[datetime | None]
    # When linking started the first-run tour, and when the account last asked the
    # handbook a question: the adoption report's "never asked anything after the tour".
    tour_started_at: Mapped[datetime | None]
    asked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member | None] = relationship()


class RoleGrant(Base):
    """A role over a subtree: secretary or deputy of a unit, trainer for a unit; an admin's
    grant has no unit and covers everything."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("member_id", "role", "organisation_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(100))


class ActivationCode(Base):
    """A single-use code a secretary hands to a member to link an account; only its hash is
    stored."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    issued_by: Mapped[str] = mapped_column(String(100))


class ConversationState(Base):
    """Where an account is in a multi-step conversation, kept in the database so that a
    restart or another worker process continues it. `choices` holds the button data of the
    last numbered list shown on a messenger without buttons, so a digit can select one."""

    __tablename__ = "conversation_states"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Append-only record of administrative acts. Never holds phone or card numbers."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class HandbookQuery(Base):
    """A question asked of the handbook, kept without who asked it (only a keyed hash of the
    account), with what the bot did and the asker's thumbs up or down: editors read the
    misses and the thumbs down. Its text is purged after SOTAY_RETENTION_DAYS."""

    __tablename__ = "handbook_queries"
    __table_args__ = (Index("ix_handbook_queries_answered_asked_at", "answered", "asked_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    question: Mapped[str] = mapped_column(String(2000))
    answered: Mapped[bool] = mapped_column(Boolean)
    entry_id: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    # A keyed hash of the asking account (bot/services/personal_data.py: asker_key), so that
    # /xoadulieu finds the member's questions while the table names no one.
    asker_key: Mapped[str | None] = mapped_column(String(64), index=True)


class CommitteeQuestion(Base):
    """A question the handbook could not answer, sent by a member to the committee's inbox."""

    __tablename__ = "committee_questions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    question: Mapped[str] = mapped_column(String(2000))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(String(4000))
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    answered_at: Mapped[datetime | None]


class Broadcast(Base):
    """A notice a secretary (or admin) sent to units; its recipients are outbox rows."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    sender_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(String(4000))
    unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The outbox row of the progress message to the sender, edited as sending goes on.
    progress_row_id: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One proactive message to one recipient, written in the transaction that decided to
    send it and drained by the dispatcher. Status: pending, sending (claimed), sent, failed,
    blocked, skipped (not linked or inactive), cancelled."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL")
    )
    channel: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))
    # The scheduled send and the recipient this row is for (bot/services/outbox_once.py):
    # unique, so a send decided twice is queued once. NULL for answers and reports.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class Meeting(Base):
    """A chi bộ meeting or training session of one unit: one-off (`starts_at`) or recurring
    (`recurrence`, see bot/services/meetings/recurrence.py)."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # regular, themed, training, other
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(300))
    agenda: Mapped[str | None] = mapped_column(String(2000))
    document: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime | None]
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Minutes before each occurrence at which members are reminded.
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]


class MeetingReminder(Base):
    """One reminder of one occurrence, due at a moment: the scheduler sends it once."""

    __tablename__ = "meeting_reminders"
    __table_args__ = (
        UniqueConstraint("meeting_id", "occurrence_at", "offset_minutes"),
        Index("ix_meeting_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    occurrence_at: Mapped[datetime]
    offset_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # sent, skipped
    handled_at: Mapped[datetime | None]


class MeetingResponse(Base):
    """A member's answer to a meeting reminder, and whether they attended."""

    __tablename__ = "meeting_responses"
    __table_args__ = (UniqueConstraint("meeting_id", "occurrence_at", "member_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    occurrence_at: Mapped[datetime]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    answer: Mapped[str | None] = mapped_column(String(16))  # attend, absent
    reason: Mapped[str | None] = mapped_column(String(500))
    answered_at: Mapped[datetime | None]
    attended: Mapped[bool | None] = mapped_column(Boolean)


# Quizzes


class QuizQuestionRow(Base):
    """A question of a bank (shipped YAML or an imported spreadsheet), copied into the
    database so that attempts keep pointing at the question they asked."""

    __tablename__ = "quiz_questions"
    __table_args__ = (UniqueConstraint("bank_id", "question_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    bank_id: Mapped[str] = mapped_column(String(100))
    question_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(2000))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[int] = mapped_column(Integer)  # index into choices
    explanation: Mapped[str] = mapped_column(String(2000))
    topic: Mapped[str] = mapped_column(String(200))
    difficulty: Mapped[str] = mapped_column(String(16))
    entry: Mapped[str | None] = mapped_column(String(100))


class Quiz(Base):
    """A quiz window for some units. State: scheduled, open, closed; the scheduler moves it
    on at `opens_at` and `closes_at` and reminds once 24 hours before closing."""

    __tablename__ = "quizzes"
    __table_args__ = (Index("ix_quizzes_state_opens_at", "state", "opens_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    bank_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every topic
    question_count: Mapped[int] = mapped_column(Integer)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_choices: Mapped[bool] = mapped_column(Boolean, default=True)
    seconds_per_question: Mapped[int | None] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer, default=70)  # percent
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    show_explanations: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    reminded_at: Mapped[datetime | None]
    # Who gets the results at closing: the trainer who scheduled it in chat, or the member
    # named with `sotay quiz schedule --notify`; None sends no report.
    report_to_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class QuizTarget(Base):
    """A unit a quiz is for (with the units under it)."""

    __tablename__ = "quiz_targets"
    __table_args__ = (UniqueConstraint("quiz_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)


class QuizAttempt(Base):
    """One member's go at a quiz: the questions drawn for it and where they are."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("quiz_id", "member_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(Integer)  # percent, set when finished
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # quiz_questions ids in the order asked; per question, the order its choices are shown.
    question_order: Mapped[list[int]] = mapped_column(JSON, default=list)
    choice_orders: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    current_index: Mapped[int] = mapped_column(Integer, default=0)
    current_sent_at: Mapped[datetime | None]


class QuizAnswer(Base):
    """A member's answer to one question of an attempt; `chosen` is None when time ran out."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"))
    chosen: Mapped[int | None] = mapped_column(Integer)  # index into the question's choices
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebLogin(Base):
    """A one-time sign-in link to the web console and the session it opened. Only a hash of
    the link's token is stored; the session cookie names the row, so signing out (or an
    operator) ends it on the server."""

    __tablename__ = "web_logins"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    issued_by: Mapped[str] = mapped_column(String(100))


class IntakeUpdate(Base):
    """An update a messenger delivered (webhook or getUpdates), stored before it is
    acknowledged and handled from here (bot/services/intake.py, bot/channels/intake.py):
    unique per messenger and update key, so a redelivery is stored once. `lease_until` is
    the claim of the process handling it, until its replies were sent; `done_at` is set
    when it was handled."""

    __tablename__ = "intake_updates"
    __table_args__ = (
        UniqueConstraint("messenger", "update_key"),
        # What is waiting, oldest first; and a chat's earlier updates (covering: a claim
        # checks them for each update it takes).
        Index("ix_intake_updates_waiting", "messenger", "done_at", "id"),
        Index("ix_intake_updates_chat", "messenger", "chat_key", "id", "done_at", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    messenger: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    chat_key: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None] = mapped_column(index=True)


class LinkFailure(Base):
    """One failed linking attempt, for the limits across accounts: per card (a keyed hash of
    the card number typed, never the number, and set for unknown cards too so that they
    lock alike) and overall. Rows older than a day are purged."""

    __tablename__ = "link_failures"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    card_key: Mapped[str | None] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# A question a day (bot/services/quizzes/daily.py)


class DailySubscription(Base):
    """A member who asked for one question a day (/hangngay), and at what local time.
    `since` is when the time was chosen: a day's slot before it is not owed."""

    __tablename__ = "daily_subscriptions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    send_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]


class DailyCard(Base):
    """Where one question stands for one member in the Leitner boxes: the box and the local
    day it is due again."""

    __tablename__ = "daily_cards"
    __table_args__ = (UniqueConstraint("member_id", "question_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"))
    box: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime]


class DailyQuestion(Base):
    """The question of one local day sent to one member: unique per member and day, so a
    day is never sent twice. The choices are kept as shown, so an answer is marked against
    what the member read even if the bank is edited meanwhile."""

    __tablename__ = "daily_questions"
    __table_args__ = (
        UniqueConstraint("member_id", "day"),
        Index("ix_daily_questions_day", "day"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    day: Mapped[date] = mapped_column(Date)
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)  # as shown
    right: Mapped[int] = mapped_column(Integer)  # the right choice's place as shown
    sent_at: Mapped[datetime]
    chosen: Mapped[int | None] = mapped_column(Integer)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None]
