"""a question a day (subscriptions, Leitner cards, the day's questions); the first-run tour; the probationary year; names in rankings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = bot.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies the table, and dropping
    # members (or channel_accounts) fails while other tables' rows point at it.
    for column in (
        sa.Column("admission_date", sa.Date(), nullable=True),
        sa.Column("sponsor1_card", sa.String(length=32), nullable=True),
        sa.Column("sponsor2_card", sa.String(length=32), nullable=True),
        sa.Column("probation_reminded_for", sa.Date(), nullable=True),
        sa.Column("named_in_rankings", sa.Boolean(), server_default=sa.false(), nullable=False),
    ):
        op.add_column("members", column)
    op.add_column("channel_accounts", sa.Column("tour_started_at", WHEN, nullable=True))
    op.add_column("channel_accounts", sa.Column("asked_at", WHEN, nullable=True))
    op.create_table(
        "daily_subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("send_minute", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("since", WHEN, nullable=False),
        sa.Column("stopped_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_daily_subscriptions_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_subscriptions")),
        sa.UniqueConstraint("member_id", name=op.f("uq_daily_subscriptions_member_id")),
    )
    op.create_table(
        "daily_cards",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("question_id", ID, nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_daily_cards_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_daily_cards_question_id_quiz_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_cards")),
        sa.UniqueConstraint("member_id", "question_id", name=op.f("uq_daily_cards_member_id_question_id")),
    )
    with op.batch_alter_table("daily_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_cards_member_id"), ["member_id"], unique=False)
    op.create_table(
        "daily_questions",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("question_id", ID, nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("right", sa.Integer(), nullable=False),
        sa.Column("sent_at", WHEN, nullable=False),
        sa.Column("chosen", sa.Integer(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_daily_questions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_daily_questions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_daily_questions_question_id_quiz_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_questions")),
        sa.UniqueConstraint("member_id", "day", name=op.f("uq_daily_questions_member_id_day")),
    )
    with op.batch_alter_table("daily_questions", schema=None) as batch_op:
        batch_op.create_index("ix_daily_questions_day", ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_questions_day")
    op.drop_table("daily_questions")
    with op.batch_alter_table("daily_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_cards_member_id"))
    op.drop_table("daily_cards")
    op.drop_table("daily_subscriptions")
    op.drop_column("channel_accounts", "asked_at")
    op.drop_column("channel_accounts", "tour_started_at")
    for column in (
        "named_in_rankings",
        "probation_reminded_for",
        "sponsor2_card",
        "sponsor1_card",
        "admission_date",
    ):
        op.drop_column("members", column)
