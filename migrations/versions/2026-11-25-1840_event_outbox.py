"""The event outbox: what happened, written in the transaction of the change.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TYPES = (
    "proposal.created",
    "proposal.validated",
    "proposal.accepted",
    "proposal.declined",
    "mentorship.started",
    "mentorship.ended",
    "mentorship.needs_attention",
    "matching_run.succeeded",
    "matching_run.failed",
    "assessment.due",
    "honorability.expiring",
    "webhook.test",
)


def upgrade() -> None:
    types = ", ".join(f"'{value}'" for value in EVENT_TYPES)
    op.create_table(
        "event",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            server_default=sa.text("gen_random_uuid()"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("departement_code", sa.Text()),
        sa.Column("association_id", postgresql.UUID(as_uuid=True)),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "data",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(f"type IN ({types})", name=op.f("ck_event_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_event_seq")),
    )
    op.create_index("ix_event_departement", "event", ["departement_code", "seq"])


def downgrade() -> None:
    op.drop_table("event")
