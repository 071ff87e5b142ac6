"""Webhooks: endpoints, their deliveries fanned out from the event outbox, the delivery log.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-25 19:25:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each new event, in the transaction that wrote it, becomes one pending delivery per active
# endpoint that asked for its type and may see it (an administrator's endpoint: every event; a
# département's: that département's). One statement per INSERT into event, however many rows
# it writes. A test event is addressed to one endpoint by the action that makes it. A worker
# may LISTEN on webhook_deliveries to send soon after the commit instead of at its next pass.
FAN_OUT = """
CREATE FUNCTION webhook_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_delivery (endpoint_id, event_id, event_seq)
    SELECT endpoint.id, new_event.id, new_event.seq
    FROM new_events AS new_event
    JOIN webhook_endpoint AS endpoint
      ON endpoint.active
     AND new_event.type = ANY (endpoint.event_types)
     AND (endpoint.departement_code IS NULL
          OR endpoint.departement_code = new_event.departement_code)
    WHERE new_event.type <> 'webhook.test';
    IF FOUND THEN
        PERFORM pg_notify('webhook_deliveries', '');
    END IF;
    RETURN NULL;
END
$$
"""
FAN_OUT_TRIGGER = """
CREATE TRIGGER event_webhook_fan_out AFTER INSERT ON event
REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION webhook_fan_out();
"""


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("departement_code", sa.Text()),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.Text()),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True)),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("created_by_id", postgresql.UUID(as_uuid=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "cardinality(event_types) >= 1", name=op.f("ck_webhook_endpoint_event_types_not_empty")
        ),
        sa.CheckConstraint("url ~ '^https?://'", name=op.f("ck_webhook_endpoint_url_scheme")),
        sa.CheckConstraint(
            "disabled_reason IS NULL OR NOT active",
            name=op.f("ck_webhook_endpoint_disabled_reason_when_inactive"),
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_webhook_endpoint_departement_code_departement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(
        "ix_webhook_endpoint_departement_code", "webhook_endpoint", ["departement_code"]
    )
    op.create_table(
        "webhook_delivery",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("endpoint_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_webhook_delivery_status")
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_webhook_delivery_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_webhook_delivery_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_delivery_endpoint_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_delivery_pending",
        "webhook_delivery",
        ["endpoint_id", "event_seq"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("delivery_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("endpoint_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "outcome IN ('succeeded', 'retrying', 'failed')",
            name=op.f("ck_webhook_attempt_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_attempt_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index("ix_webhook_attempt_endpoint", "webhook_attempt", ["endpoint_id", "id"])
    op.execute(FAN_OUT)
    op.execute(FAN_OUT_TRIGGER)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO server_secret (name, value) VALUES ('webhook', :value)"
            " ON CONFLICT (name) DO NOTHING"
        ),
        {"value": secrets.token_bytes(32)},
    )


def downgrade() -> None:
    op.execute("DELETE FROM server_secret WHERE name = 'webhook'")
    op.execute("DROP TRIGGER event_webhook_fan_out ON event")
    op.execute("DROP FUNCTION webhook_fan_out()")
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_endpoint")
