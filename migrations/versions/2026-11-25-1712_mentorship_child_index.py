"""Mentorships by child: a child's situation looks up their latest ended mentorship.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 17:12:00

Without it, deriving the situation of a département's children scanned every mentorship
once per child.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_mentorship_child", "mentorship", ["child_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_mentorship_child", table_name="mentorship")
