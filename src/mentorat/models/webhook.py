from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk

DELIVERY_STATUSES: tuple[str, ...] = ("pending", "succeeded", "failed")
ATTEMPT_OUTCOMES: tuple[str, ...] = ("succeeded", "retrying", "failed")


class WebhookEndpoint(TimestampMixin, VersionedMixin, Base):
    """A URL told about events: an administrator's (`departement_code` null: every
    département's events) or a département's (that département's events only).

    The signing secret is kept encrypted (AES-GCM under a key derived from the server
    secret `webhook`), since the server must sign with it and so cannot keep only a hash.
    """

    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        CheckConstraint("cardinality(event_types) >= 1", name="event_types_not_empty"),
        CheckConstraint("url ~ '^https?://'", name="url_scheme"),
        CheckConstraint(
            "disabled_reason IS NULL OR NOT active", name="disabled_reason_when_inactive"
        ),
        Index("ix_webhook_endpoint_departement_code", "departement_code"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    departement_code: Mapped[str | None] = mapped_column(
        Text, ForeignKey("departement.code", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(Text, nullable=False)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # Set when the service turned the endpoint off itself (it kept failing).
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # Since when every attempt failed (null after a success): the automatic disabling counts
    # from here.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class WebhookDelivery(Base):
    """One event to send to one endpoint. Written in the transaction of the event (a trigger
    on `event` fans each new event out to the endpoints that want it), sent by the workers in
    event order per endpoint."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_text_list(DELIVERY_STATUSES)})", name="status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        UniqueConstraint("endpoint_id", "event_id"),
        Index(
            "ix_webhook_delivery_pending",
            "endpoint_id",
            "event_seq",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("event.id", ondelete="CASCADE"), nullable=False
    )
    event_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """The delivery log: one row per HTTP attempt, what came back and what happens next."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_text_list(ATTEMPT_OUTCOMES)})", name="outcome"),
        Index("ix_webhook_attempt_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    event_type: Mapped[str] = mapped_column(Text, nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
