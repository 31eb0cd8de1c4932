"""quiz report recipient: the member who receives a quiz's results when it closes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 03:43:07.618979
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "report_to_member_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_quizzes_report_to_member_id_members"),
            "members",
            ["report_to_member_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_quizzes_report_to_member_id_members"), type_="foreignkey"
        )
        batch_op.drop_column("report_to_member_id")
