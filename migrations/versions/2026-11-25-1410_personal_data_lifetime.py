"""Personal data lifetime: idempotency answers know whom they name; retention may prune.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 13:45:00.000000

- `child.anonymised_at`, `mentor.anonymised_at`: set by retention once only what statistics
  need is left.
- `idempotency_record.subject_ids`: the ids an stored answer mentions, so a purge finds every
  copy of a person's data with one indexed `&&`, and `created_at` is indexed for the sweep.
- The audit trail and the append-only histories stay closed to everyone, except a
  transaction that set `mentorat.retention = on` locally (only the retention service and the
  purges do): there, expired audit rows may be deleted, the name copied in an audit row may be
  replaced (a purged principal), and free texts of events and revisions may be scrubbed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION_ON = "coalesce(current_setting('mentorat.retention', true), '') = 'on'"

AUDIT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' AND {RETENTION_ON} THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        -- Only the copied name may change; the event itself (who by id, what, when) stays.
        IF (NEW.id, NEW.occurred_at, NEW.principal_id, NEW.principal_role, NEW.action,
            NEW.entity_type, NEW.entity_id, NEW.departement_code, NEW.request_id, NEW.details)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.principal_id, OLD.principal_role, OLD.action,
            OLD.entity_type, OLD.entity_id, OLD.departement_code, OLD.request_id, OLD.details)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

PREVIOUS_AUDIT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

FORBID_CHANGE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND NOT EXISTS (SELECT 1 FROM mentorship WHERE id = OLD.mentorship_id) THEN
        RETURN OLD;
    END IF;
    -- Retention scrubs free texts (notes, objective wording) of rows it keeps for statistics.
    IF TG_OP = 'UPDATE' AND {RETENTION_ON} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""

PREVIOUS_FORBID_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND NOT EXISTS (SELECT 1 FROM mentorship WHERE id = OLD.mentorship_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    for table in ("child", "mentor"):
        op.add_column(table, sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "idempotency_record",
        sa.Column(
            "subject_ids",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_idempotency_record_subject_ids",
        "idempotency_record",
        ["subject_ids"],
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_idempotency_record_created_at"), "idempotency_record", ["created_at"]
    )
    op.create_index(op.f("ix_audit_event_occurred_at"), "audit_event", ["occurred_at"])
    op.execute(AUDIT_FUNCTION)
    op.execute(FORBID_CHANGE_FUNCTION)


def downgrade() -> None:
    op.execute(PREVIOUS_FORBID_CHANGE_FUNCTION)
    op.execute(PREVIOUS_AUDIT_FUNCTION)
    op.drop_index(op.f("ix_audit_event_occurred_at"), table_name="audit_event")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_index("ix_idempotency_record_subject_ids", table_name="idempotency_record")
    op.drop_column("idempotency_record", "subject_ids")
    for table in ("mentor", "child"):
        op.drop_column(table, "anonymised_at")
