"""keyed activation codes and link failures: codes hashed with HMAC-SHA256 under the server
secret; failed linking attempts for the limits per card and overall

Codes issued before this revision are plain SHA-256 and cannot be re-keyed (only the hash is
known). They are marked "sha256" and still accepted until they expire (at most 14 days after
issue): reissuing would void codes secretaries have already handed out, and no new code is
written that way. `sotay codes issue` replaces a member's unused codes whenever it is run.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows take "sha256"; new rows default to the keyed scheme.
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hash_scheme", sa.String(length=16), nullable=False, server_default="sha256")
        )
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.alter_column("hash_scheme", server_default="hmac-sha256")
    op.create_table(
        "link_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_link_failures_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_failures")),
    )
    with op.batch_alter_table("link_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_link_failures_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("link_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_failures_member_id"))
        batch_op.drop_index(batch_op.f("ix_link_failures_at"))
    op.drop_table("link_failures")
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.drop_column("hash_scheme")
