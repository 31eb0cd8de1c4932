"""intake updates: every messenger update is stored before it is acknowledged

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("update_key", sa.String(length=64), nullable=False),
        sa.Column("chat_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_updates")),
        sa.UniqueConstraint(
            "channel", "update_key", name=op.f("uq_intake_updates_channel_update_key")
        ),
    )
    op.create_index(
        "ix_intake_updates_open",
        "intake_updates",
        ["channel", "finished_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_intake_updates_open", table_name="intake_updates")
    op.drop_table("intake_updates")
