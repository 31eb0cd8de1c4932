"""the probationary year (admission date and sponsors on the roster, reminders sent once);
when a linked account first asked the handbook; a question a day

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admission_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("sponsor_card_1", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("sponsor_card_2", sa.String(length=32), nullable=True))
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("asked_at", bot.models.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "probation_reminders",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", _ID, nullable=False),
        sa.Column("sent_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_probation_reminders_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["members.id"],
            name=op.f("fk_probation_reminders_recipient_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probation_reminders")),
        sa.UniqueConstraint(
            "member_id",
            "admitted_on",
            "kind",
            "recipient_id",
            name=op.f("uq_probation_reminders_member_id_admitted_on_kind_recipient_id"),
        ),
    )
    op.create_index(
        op.f("ix_probation_reminders_member_id"),
        "probation_reminders",
        ["member_id"],
        unique=False,
    )

    op.create_table(
        "daily_subscriptions",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_daily_subscriptions_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_daily_subscriptions")),
    )
    op.create_index(
        "ix_daily_subscriptions_active_next_at",
        "daily_subscriptions",
        ["active", "next_at"],
        unique=False,
    )
    op.create_table(
        "daily_cards",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("question_key", sa.String(length=140), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_daily_cards_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_cards")),
        sa.UniqueConstraint(
            "member_id", "question_key", name=op.f("uq_daily_cards_member_id_question_key")
        ),
    )
    op.create_index(
        op.f("ix_daily_cards_member_id"), "daily_cards", ["member_id"], unique=False
    )
    op.create_table(
        "daily_sends",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("organisation_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("question_key", sa.String(length=140), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("order", sa.JSON(), nullable=False),
        sa.Column("right_shown", sa.Integer(), nullable=False),
        sa.Column("sent_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_daily_sends_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_daily_sends_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_sends")),
        sa.UniqueConstraint("member_id", "day", name=op.f("uq_daily_sends_member_id_day")),
    )
    op.create_index(op.f("ix_daily_sends_day"), "daily_sends", ["day"], unique=False)
    op.create_index(
        op.f("ix_daily_sends_organisation_id"), "daily_sends", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("daily_sends")
    op.drop_table("daily_cards")
    op.drop_table("daily_subscriptions")
    op.drop_index(op.f("ix_probation_reminders_member_id"), table_name="probation_reminders")
    op.drop_table("probation_reminders")
    # Plain DROP COLUMN (SQLite 3.35+): a batch would copy and drop the referenced tables,
    # which their rows' foreign keys refuse.
    op.drop_column("channel_accounts", "asked_at")
    for column in ("sponsor_card_2", "sponsor_card_1", "admission_date"):
        op.drop_column("members", column)
