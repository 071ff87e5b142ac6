"""Publishing a dry run: who published its proposals and when, on the run and on each proposal.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("matching_run", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.add_column("matching_run", sa.Column("published_by_id", postgresql.UUID(as_uuid=True)))
    op.add_column("matching_run", sa.Column("published_by_name", sa.Text()))
    op.add_column(
        "matching_run",
        sa.Column("published_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_matching_run_published"),
        "matching_run", "(published_count > 0) = (published_at IS NOT NULL)"
    )
    op.add_column("proposal", sa.Column("published_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("proposal", "published_at")
    op.drop_constraint(op.f("ck_matching_run_published"), "matching_run", type_="check")
    op.drop_column("matching_run", "published_count")
    op.drop_column("matching_run", "published_by_name")
    op.drop_column("matching_run", "published_by_id")
    op.drop_column("matching_run", "published_at")
