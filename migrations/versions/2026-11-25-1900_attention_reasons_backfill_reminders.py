"""Why a mentorship needs attention, backfilled meetings and the daily reminders already sent.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 19:00:00

A département sets after how many days without a meeting, with stale objectives or paused a
mentorship needs attention. A meeting entered after the fact, dated before the service knew
the mentorship, is flagged as backfilled. `reminder_sent` remembers what the daily reminders
already told, so that a day run twice, or the next day while nothing changed, tells nobody
again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THRESHOLDS = (
    ("attention_meeting_days", 30),
    ("attention_objective_days", 30),
    ("attention_pause_days", 90),
)
REMINDER_KINDS = ("mentorship.needs_attention", "honorability.expiring", "assessment.due")


def upgrade() -> None:
    for name, default in THRESHOLDS:
        op.add_column(
            "departement",
            sa.Column(name, sa.SmallInteger(), server_default=sa.text(str(default)), nullable=False),
        )
        op.create_check_constraint(
            op.f(f"ck_departement_{name}_range"), "departement", f"{name} BETWEEN 1 AND 365"
        )
    op.add_column(
        "meeting",
        sa.Column("backfill", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    kinds = ", ".join(f"'{kind}'" for kind in REMINDER_KINDS)
    op.create_table(
        "reminder_sent",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("entity_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("occasion", sa.Text(), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_reminder_sent_kind")),
        sa.PrimaryKeyConstraint("kind", "entity_id", "occasion", name=op.f("pk_reminder_sent")),
    )


def downgrade() -> None:
    op.drop_table("reminder_sent")
    op.drop_column("meeting", "backfill")
    for name, _ in THRESHOLDS:
        op.drop_column("departement", name)
