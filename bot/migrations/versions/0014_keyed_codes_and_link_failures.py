"""linking limits across accounts; activation codes keyed by the server secret; handbook
questions findable by their asker for erasure

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00

Codes were stored as plain SHA-256; they are now an HMAC keyed by SOTAY_SECRET_KEY, so the
unused ones (which no longer match, and whose plain hashes could be searched offline) are
deleted: secretaries issue new ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("card_key", sa.String(length=64), nullable=True),
        sa.Column("failed_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_failures")),
    )
    with op.batch_alter_table("link_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_failures_card_key"), ["card_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_link_failures_failed_at"), ["failed_at"], unique=False
        )
    op.execute("DELETE FROM activation_codes WHERE used_at IS NULL")
    with op.batch_alter_table("handbook_queries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asker_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_handbook_queries_asker_key"), ["asker_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("handbook_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handbook_queries_asker_key"))
        batch_op.drop_column("asker_key")
    with op.batch_alter_table("link_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_failures_failed_at"))
        batch_op.drop_index(batch_op.f("ix_link_failures_card_key"))
    op.drop_table("link_failures")
