"""web console: one-time sign-in links and the sessions they open

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-02 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_logins",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_web_logins_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_logins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_logins_token_hash")),
    )
    with op.batch_alter_table("web_logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_logins_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_logins_member_id"))
    op.drop_table("web_logins")
