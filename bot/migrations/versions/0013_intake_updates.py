"""durable intake: updates stored before they are acknowledged, then handled from the table

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models


revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("messenger", sa.String(length=16), nullable=False),
        sa.Column("update_key", sa.String(length=64), nullable=False),
        sa.Column("chat_key", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("received_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_updates")),
        sa.UniqueConstraint(
            "messenger", "update_key", name=op.f("uq_intake_updates_messenger_update_key")
        ),
    )
    with op.batch_alter_table("intake_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_updates_done_at"), ["done_at"], unique=False)
        batch_op.create_index(
            "ix_intake_updates_waiting", ["messenger", "done_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_intake_updates_chat",
            ["messenger", "chat_key", "id", "done_at", "lease_until"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("intake_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_updates_chat")
        batch_op.drop_index("ix_intake_updates_waiting")
        batch_op.drop_index(batch_op.f("ix_intake_updates_done_at"))

    op.drop_table("intake_updates")
